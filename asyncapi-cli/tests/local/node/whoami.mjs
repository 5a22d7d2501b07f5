// `whoaminode`, in Node.js as an ES module, callback style: answers what API Gateway and Lambda
// told it, and whether the bundled SDK imports.
import { ApiGatewayManagementApiClient } from "@aws-sdk/client-apigatewaymanagementapi";
import { greet } from "greetings"; // from the layer (SharedLayer)

export function handler(event, context, callback) {
  if (JSON.parse(event.body).fail) {
    throw new TypeError("the handler failed on purpose");
  }
  callback(null, {
    statusCode: 200,
    body: JSON.stringify({
      authorizer: event.requestContext.authorizer,
      routeKey: event.requestContext.routeKey,
      function: context.functionName,
      remaining: context.getRemainingTimeInMillis() > 0,
      sdk: typeof ApiGatewayManagementApiClient,
      layer: greet(event.requestContext.authorizer.user),
    }),
  });
}
