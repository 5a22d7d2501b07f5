// The generated client's runtime (`runtime.js`) against a scripted server (the `ws` package's):
// what the chat server never does. `ROOM_CLIENT` is the generated module of the
// `reply_and_params` fixture (parameters, a query, a header, a reply correlated by id); run by
// tests/tests/typescript.rs.
import { test } from "node:test";
import assert from "node:assert/strict";
import WebSocket, { WebSocketServer } from "ws";

const { connect } = await import(process.env.ROOM_CLIENT);
const { ClientError, channelUrl } = await import(new URL("runtime.js", new URL(`file://${process.env.ROOM_CLIENT}`)).href);

/** A server on a free loopback port; `script(socket, request)` plays each connection. */
async function serve(script) {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((resolve) => server.on("listening", resolve));
  server.on("connection", (socket, request) => script(socket, request));
  return { base: `ws://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

const OPTIONS = {
  params: { roomId: "r 1", userId: "alice" },
  query: { token: "t0k" },
  headers: { "x-api-key": "k3y" },
  WebSocket,
  requestTimeout: 2000,
};

function next(client, type) {
  return new Promise((resolve) => {
    const stop = client.on(type, (event) => {
      stop();
      resolve(event);
    });
  });
}

test("the handshake carries the parameters, the query and the headers", async () => {
  let seen;
  const server = await serve((socket, request) => {
    seen = { url: request.url, key: request.headers["x-api-key"] };
    socket.close(1000);
  });
  const client = await connect(server.base, OPTIONS);
  assert.deepEqual(await client.closed, { code: 1000, reason: "" });
  assert.deepEqual(seen, { url: "/rooms/r%201/users/alice?token=t0k", key: "k3y" });
  await server.close();
});

test("replies are matched by correlation id, out of order, among other frames", async () => {
  const server = await serve((socket) => {
    const received = [];
    socket.on("message", (data) => {
      received.push(JSON.parse(String(data)));
      if (received.length < 2) return;
      // The second request's reply first, an unrelated pong between, then the first's.
      const [a, b] = received;
      socket.send(JSON.stringify({ id: b.id, seq: b.seq * 10 }));
      socket.send(JSON.stringify({ id: "nobody's", seq: 0 }));
      socket.send(JSON.stringify({ id: a.id, seq: a.seq * 10 }));
    });
  });
  const client = await connect(server.base, OPTIONS);
  const stray = next(client, "message");
  const [first, second] = await Promise.all([client.ping({ id: "a", seq: 1 }), client.ping({ id: "b", seq: 2 })]);
  assert.deepEqual(first, { id: "a", seq: 10 });
  assert.deepEqual(second, { id: "b", seq: 20 });
  // A pong nobody waits for is the channel's message, typed by name.
  assert.deepEqual((await stray).message, { name: "pong", payload: { id: "nobody's", seq: 0 } });
  await client.close();
  await server.close();
});

test("frames that are no message of the channel are kept: text, not JSON, binary", async () => {
  const server = await serve((socket) => {
    socket.send(JSON.stringify({ seq: "not a number" }));
    socket.send("not json");
    socket.send(Buffer.from([0xff, 0x00, 0x01]));
  });
  const client = await connect(server.base, OPTIONS);
  const seen = [];
  await new Promise((resolve) =>
    client.on("unknown", ({ data }) => {
      seen.push(data);
      if (seen.length === 3) resolve();
    }),
  );
  assert.equal(seen[0], '{"seq":"not a number"}');
  assert.equal(seen[1], "not json");
  assert.ok(seen[2] instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(seen[2])], [0xff, 0x00, 0x01]);
  await client.close();
  await server.close();
});

test("a request times out; an error frame fails the request that waits, or is an event", async () => {
  const server = await serve((socket) => {
    socket.on("message", (data) => {
      const message = JSON.parse(String(data));
      if (message.id === "fail") {
        socket.send(JSON.stringify({ message: "Internal server error", connectionId: "c1", requestId: "r1" }));
      }
      if (message.id === "flood") {
        socket.send(JSON.stringify({ message: "Too Many Requests", connectionId: "c1", requestId: "r2" }));
      }
    });
  });
  const client = await connect(server.base, OPTIONS);
  await assert.rejects(client.ping({ id: "slow", seq: 1 }, { timeout: 50 }), (error) => {
    assert.ok(error instanceof ClientError);
    assert.equal(error.kind, "timeout");
    return true;
  });
  await assert.rejects(client.ping({ id: "fail", seq: 1 }), (error) => {
    assert.equal(error.kind, "server");
    assert.deepEqual(error.frame, { message: "Internal server error", connectionId: "c1", requestId: "r1" });
    return true;
  });
  // Nothing waits: the throttling frame of a rate-limited server is an event.
  const event = next(client, "serverError");
  client.send({ action: "ping", id: "flood" });
  assert.deepEqual((await event).error, { message: "Too Many Requests", connectionId: "c1", requestId: "r2" });
  await client.close();
  await server.close();
});

test("a validator checks outgoing messages: nothing invalid is sent", async () => {
  const received = [];
  const server = await serve((socket) => socket.on("message", (data) => received.push(String(data))));
  const validate = (schema, value) => (Number.isInteger(value.seq) || value.seq === undefined ? true : ["seq"]);
  const client = await connect(server.base, { ...OPTIONS, validate });
  await assert.rejects(client.ping({ id: "x", seq: 1.5 }), (error) => {
    assert.equal(error.kind, "invalid");
    assert.deepEqual(error.errors, ["seq"]);
    return true;
  });
  client.send({ action: "ping", id: "y", seq: 1 }); // valid: goes out
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(received, ['{"action":"ping","id":"y","seq":1}']);
  await client.close();
  await server.close();
});

test("no reconnection after the server's 1000; reconnection after a drop, until refused", async () => {
  let connections = 0;
  const server = await serve((socket) => {
    connections += 1;
    if (connections === 1) socket.terminate(); // a drop: 1006
    else socket.close(1000, "bye");
  });
  const client = await connect(server.base, { ...OPTIONS, reconnect: { initial: 10, max: 20 } });
  const events = [];
  for await (const event of client) events.push(event.type === "close" ? `close ${event.code} ${event.final}` : event.type);
  assert.deepEqual(events, ["close 1006 false", "reconnecting", "open", "close 1000 true"]);
  assert.equal(connections, 2);
  await server.close();
});

test("a refused handshake rejects with its status", async () => {
  const server = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    verifyClient: (_, done) => done(false, 401, "Unauthorized"),
  });
  await new Promise((resolve) => server.on("listening", resolve));
  const base = `ws://127.0.0.1:${server.address().port}`;
  await assert.rejects(connect(base, OPTIONS), (error) => error.kind === "refused" && error.status === 401);
  await new Promise((resolve) => server.close(resolve));
});

test("a channel at the root of an API Gateway stage URL is the stage URL itself", () => {
  const stage = "wss://abc123.execute-api.eu-west-1.amazonaws.com/prod";
  assert.equal(channelUrl(stage, "/"), stage);
  assert.equal(channelUrl(`${stage}/`, "/"), stage);
  assert.equal(channelUrl(stage, "/rooms/{id}", { id: "a b" }), `${stage}/rooms/a%20b`);
  assert.equal(channelUrl("ws://127.0.0.1:9", "/", {}, { name: "Ada" }), "ws://127.0.0.1:9/?name=Ada");
});
