"""The benchmark's echo function in Python: the message's body back, as a two-way route's
response."""


def handler(event, context):
    return {"statusCode": 200, "body": event["body"]}
