// A local DynamoDB for the tests (`test_support::functions::DynamoDb`): dynalite (in memory) on a free loopback port, with the
// tables named on the command line created and active: `TABLE` keyed by a string `connectionId`,
// `TABLE:HASH/RANGE` by the string keys it names (`node dynamodb.mjs simplechat Connections:pk/sk`). Prints its endpoint, then serves until standard input
// closes (the test holds it open, and its end ends the emulator).
import dynalite from "dynalite";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const endpoint = `http://127.0.0.1:${server.address().port}`;
const client = new DynamoDBClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
});
for (const spec of process.argv.slice(2)) {
  const [name, keys = "connectionId"] = spec.split(":");
  const [hash, range] = keys.split("/");
  const attributes = [hash, range].filter(Boolean);
  await client.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: attributes.map((key) => ({ AttributeName: key, AttributeType: "S" })),
      KeySchema: attributes.map((key, i) => ({ AttributeName: key, KeyType: i === 0 ? "HASH" : "RANGE" })),
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
}
console.log(endpoint);
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
