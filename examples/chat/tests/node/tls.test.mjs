// The chat's generated TypeScript client over `wss://` with the `ws` package, as a browser would
// reach a TLS server: trusting the test's CA it joins and gets the echo reply; trusting only the
// system's roots the handshake is refused. Run by `tests/tls.rs`, which starts the chat with a
// certificate made at run time (`CHAT_URL`, `CA_FILE`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import WebSocket from "ws";
import { connect } from "../../static/client/chat.js";

const URL = process.env.CHAT_URL;
const CA = readFileSync(process.env.CA_FILE);

/** The `ws` package's WebSocket, trusting the test's CA. */
class TrustingWebSocket extends WebSocket {
  constructor(url, protocols, options) {
    super(url, protocols, { ...options, ca: CA });
  }
}

test("over wss:// with the CA: join, echo, close", async () => {
  const chat = await connect(URL, { query: { name: "Tess" }, WebSocket: TrustingWebSocket });
  assert.ok(chat.url.startsWith("wss://"));
  assert.deepEqual(await chat.echo({ text: "over TLS" }), { type: "echo", text: "over TLS" });
  assert.deepEqual(await chat.close(), { code: 1000, reason: "" });
});

test("without the CA the handshake is refused", async () => {
  await assert.rejects(connect(URL, { query: { name: "Tess" }, WebSocket }), (error) => {
    assert.equal(error.kind, "refused");
    return true;
  });
});
