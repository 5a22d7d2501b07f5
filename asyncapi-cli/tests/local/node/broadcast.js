// `broadcast`, in Node.js as CommonJS: posts to every other connection through the AWS SDK for
// JavaScript v3, which it imports without listing it, as Lambda's Node.js runtime bundles it.
const fs = require("node:fs");
const path = require("node:path");
const {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} = require("@aws-sdk/client-apigatewaymanagementapi");

// The endpoint is the one the environment names (AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI).
const management = new ApiGatewayManagementApiClient({});

exports.handler = async (event) => {
  const me = event.requestContext.connectionId;
  const user = event.requestContext.authorizer.user;
  const { data } = JSON.parse(event.body);
  const table = process.env.TABLE_DIR;
  for (const other of fs.readdirSync(table)) {
    if (other === me) continue;
    const message = JSON.stringify({ from: user, data, via: "node" });
    try {
      await management.send(new PostToConnectionCommand({ ConnectionId: other, Data: message }));
    } catch (error) {
      if (error.name !== "GoneException") throw error;
      fs.rmSync(path.join(table, other), { force: true });
    }
  }
  return { statusCode: 200, body: "Data sent." };
};
