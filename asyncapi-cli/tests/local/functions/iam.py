"""A function behind `AWS_IAM` on `$connect`: `$connect` lets in whoever API Gateway let in, and
every message is answered with the caller API Gateway put in the request context."""

import json


def identity(event, context):
    if event["requestContext"]["routeKey"] == "$connect":
        return {"statusCode": 200}
    return {"statusCode": 200, "body": json.dumps(event["requestContext"]["identity"])}
