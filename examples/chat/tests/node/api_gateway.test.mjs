// The AWS SDK for JavaScript v3's API Gateway management client against a running chat,
// pointed at it by `endpoint` only and signing with SigV4. Run by tests/api_gateway.rs with
// `node --test`, which passes the chat's address, a key and a connected client's id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
  GetConnectionCommand,
  DeleteConnectionCommand,
  GoneException,
  PayloadTooLargeException,
} from '@aws-sdk/client-apigatewaymanagementapi';

const { CHAT_ADDRESS, KEY_ID, SECRET, CONNECTION_ID } = process.env;

function client(endpoint, secret = SECRET, keyId = KEY_ID) {
  return new ApiGatewayManagementApiClient({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: keyId, secretAccessKey: secret },
    maxAttempts: 1,
  });
}

for (const endpoint of [`http://${CHAT_ADDRESS}/prod`, `http://${CHAT_ADDRESS}`]) {
  test(`post and get at ${endpoint}`, async () => {
    const sdk = client(endpoint);
    const data = JSON.stringify({ type: 'message', from: 'node', text: endpoint });
    await sdk.send(new PostToConnectionCommand({ ConnectionId: CONNECTION_ID, Data: data }));
    await sdk.send(new PostToConnectionCommand({ ConnectionId: CONNECTION_ID, Data: new Uint8Array([0xff, 0x00, endpoint.length]) }));
    const got = await sdk.send(new GetConnectionCommand({ ConnectionId: CONNECTION_ID }));
    for (const at of [got.ConnectedAt, got.LastActiveAt]) {
      assert.ok(at instanceof Date && !Number.isNaN(at.getTime()), `${at} is a date`);
      assert.ok(Math.abs(Date.now() - at.getTime()) < 30_000, `${at.toISOString()} is recent`);
    }
    assert.equal(got.Identity.SourceIp, '127.0.0.1');
    assert.equal(got.Identity.UserAgent, 'chat-test/1.0');
  });
}

test('an unknown id is GoneException, too much data PayloadTooLargeException', async () => {
  const sdk = client(`http://${CHAT_ADDRESS}/prod`);
  await assert.rejects(
    sdk.send(new PostToConnectionCommand({ ConnectionId: 'no-such-connection', Data: 'x' })),
    (e) => e instanceof GoneException && e.$metadata.httpStatusCode === 410,
  );
  await assert.rejects(
    sdk.send(new PostToConnectionCommand({ ConnectionId: CONNECTION_ID, Data: 'x'.repeat(128 * 1024 + 1) })),
    (e) => e instanceof PayloadTooLargeException && e.$metadata.httpStatusCode === 413,
  );
});

test('wrong credentials and a wrong stage are refused', async () => {
  const refused = async (sdk, name) => {
    await assert.rejects(
      sdk.send(new GetConnectionCommand({ ConnectionId: CONNECTION_ID })),
      (e) => e.name === name && e.$metadata.httpStatusCode === 403,
    );
  };
  await refused(client(`http://${CHAT_ADDRESS}/prod`, 'not-the-secret'), 'InvalidSignatureException');
  await refused(client(`http://${CHAT_ADDRESS}/prod`, SECRET, 'AKIDUNKNOWN'), 'UnrecognizedClientException');
  await refused(client(`http://${CHAT_ADDRESS}/dev`), 'ForbiddenException');
});

test('delete closes the connection; then it is gone', async () => {
  const sdk = client(`http://${CHAT_ADDRESS}/prod`);
  await sdk.send(new DeleteConnectionCommand({ ConnectionId: CONNECTION_ID }));
  await assert.rejects(
    sdk.send(new GetConnectionCommand({ ConnectionId: CONNECTION_ID })),
    (e) => e instanceof GoneException,
  );
});
