"""Handlers for ws-runtime's function tests, written as for AWS Lambda behind an API Gateway
WebSocket API: each takes the event API Gateway sends and returns a proxy response."""

import json
import os
import time


def connect(event, context):
    # A query parameter `deny` refuses the handshake, as an authorizing $connect function does.
    query = event.get("queryStringParameters") or {}
    if "deny" in query:
        return {"statusCode": 403, "body": "denied"}
    return {"statusCode": 200}


def echo(event, context):
    """Answers with what it got, which process answered, and what Lambda told it."""
    body = json.loads(event["body"])
    return {
        "statusCode": 200,
        "body": json.dumps(
            {
                "echo": body,
                "pid": os.getpid(),
                "routeKey": event["requestContext"]["routeKey"],
                "function": context.function_name,
                "requestId": context.aws_request_id,
                "remainingMs": context.get_remaining_time_in_millis(),
                "handler": os.environ.get("_HANDLER"),
                "region": os.environ.get("AWS_REGION"),
                "taskRoot": os.environ.get("LAMBDA_TASK_ROOT"),
            }
        ),
    }


def fail(event, context):
    raise ValueError("the handler failed on purpose")


def slow(event, context):
    time.sleep(float(json.loads(event["body"]).get("seconds", 10)))
    return {"statusCode": 200, "body": json.dumps({"slow": os.getpid()})}


def die(event, context):
    os._exit(3)
