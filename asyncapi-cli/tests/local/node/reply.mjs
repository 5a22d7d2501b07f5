// Posts back to the sender through the management endpoint built from the event, as some of
// AWS's samples build it: `https://{domainName}/{stage}`, trusted through NODE_EXTRA_CA_CERTS.
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";

export const handler = async (event) => {
  const { domainName, stage, connectionId } = event.requestContext;
  const endpoint = `https://${domainName}/${stage}`;
  const management = new ApiGatewayManagementApiClient({ endpoint });
  const Data = JSON.stringify({ over: endpoint, from: "node" });
  await management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data }));
  return { statusCode: 200 };
};
