"""AWS's serverless WebSocket chat (simple-websockets-chat-app), in Python as its tutorial writes
it, with what `asyncapi-rs local`'s test also needs: an authorizer, a two-way route, and functions
that fail, time out or die. Connections are kept in DynamoDB (TABLE_NAME); boto3 reaches the
endpoints the environment names (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI)."""

import json
import os
import time

import boto3
import greetings  # from the layer (SharedLayer)

TABLE = os.environ["TABLE_NAME"]
dynamodb = boto3.client("dynamodb")


def connections():
    items = dynamodb.scan(TableName=TABLE, ProjectionExpression="connectionId")["Items"]
    return [item["connectionId"]["S"] for item in items]


def forget(connection_id):
    dynamodb.delete_item(TableName=TABLE, Key={"connectionId": {"S": connection_id}})


def authorize(event, context):
    """A REQUEST authorizer: `?token=user-NAME` is allowed as NAME, `boom` fails as
    `Unauthorized`, anything else is denied."""
    token = (event.get("queryStringParameters") or {}).get("token", "")
    if token == "boom":
        raise Exception("Unauthorized")
    allowed = token.startswith("user-")
    return {
        "principalId": token,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if allowed else "Deny",
                    "Resource": event["methodArn"],
                }
            ],
        },
        "context": {"user": token[len("user-"):]},
    }


def on_connect(event, context):
    request = event["requestContext"]
    item = {
        "connectionId": {"S": request["connectionId"]},
        "user": {"S": request["authorizer"]["user"]},
    }
    dynamodb.put_item(TableName=TABLE, Item=item)
    return {"statusCode": 200, "body": "Connected."}


def on_disconnect(event, context):
    forget(event["requestContext"]["connectionId"])
    return {"statusCode": 200, "body": "Disconnected."}


def send_message(event, context):
    """Posts `data` to every other connection through the management API: the endpoint is
    the one Lambda's environment names (AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI)."""
    management = boto3.client("apigatewaymanagementapi")
    me = event["requestContext"]["connectionId"]
    user = event["requestContext"]["authorizer"]["user"]
    data = json.loads(event["body"])["data"]
    for other in connections():
        if other == me:
            continue
        message = json.dumps({"from": user, "data": data}).encode()
        try:
            management.post_to_connection(ConnectionId=other, Data=message)
        except management.exceptions.GoneException:
            forget(other)
    return {"statusCode": 200, "body": "Data sent."}


def whoami(event, context):
    """A two-way route: answers with what API Gateway and Lambda told it."""
    request = event["requestContext"]
    return {
        "statusCode": 200,
        "body": json.dumps(
            {
                "authorizer": request.get("authorizer"),
                "apiId": request["apiId"],
                "stage": request["stage"],
                "routeKey": request["routeKey"],
                "greeting": os.environ["GREETING"],
                "function": context.function_name,
                "memory": context.memory_limit_in_mb,
                "region": os.environ["AWS_REGION"],
                "connections": len(connections()),
                "layer": greetings.greet(request["authorizer"]["user"]),
            }
        ),
    }


def fail(event, context):
    raise ValueError("the handler failed on purpose")


def slow(event, context):
    time.sleep(10)
    return {"statusCode": 200, "body": "too late"}


def die(event, context):
    os._exit(3)


def reply_over_https(event, context):
    """Posts back to the sender through the management endpoint built from the event, as some
    of AWS's samples build it: `https://{domainName}/{stage}`."""
    request = event["requestContext"]
    endpoint = "https://" + request["domainName"] + "/" + request["stage"]
    management = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint)
    message = json.dumps({"over": endpoint, "from": "python"}).encode()
    management.post_to_connection(ConnectionId=request["connectionId"], Data=message)
    return {"statusCode": 200}
