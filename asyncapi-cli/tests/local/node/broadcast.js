// `broadcast`, in Node.js as CommonJS: posts to every other connection in the DynamoDB table
// through the AWS SDK for JavaScript v3, which it imports without listing it, as Lambda's
// Node.js runtime bundles it.
const {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} = require("@aws-sdk/client-apigatewaymanagementapi");
const { DeleteItemCommand, DynamoDBClient, ScanCommand } = require("@aws-sdk/client-dynamodb");

// The endpoints are the ones the environment names (AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI,
// AWS_ENDPOINT_URL_DYNAMODB).
const management = new ApiGatewayManagementApiClient({});
const dynamodb = new DynamoDBClient({});
const TableName = process.env.TABLE_NAME;

exports.handler = async (event) => {
  const me = event.requestContext.connectionId;
  const user = event.requestContext.authorizer.user;
  const { data } = JSON.parse(event.body);
  const { Items } = await dynamodb.send(new ScanCommand({ TableName }));
  for (const other of Items.map((item) => item.connectionId.S)) {
    if (other === me) continue;
    const message = JSON.stringify({ from: user, data, via: "node" });
    try {
      await management.send(new PostToConnectionCommand({ ConnectionId: other, Data: message }));
    } catch (error) {
      if (error.name !== "GoneException") throw error;
      await dynamodb.send(new DeleteItemCommand({ TableName, Key: { connectionId: { S: other } } }));
    }
  }
  return { statusCode: 200, body: "Data sent." };
};
