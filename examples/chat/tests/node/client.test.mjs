// The TypeScript client generated from the chat's document (`static/client`, the page's client)
// against the Rust chat server: every route, a reply, a broadcast, error frames, a refused
// handshake, the close code, and reconnection after the server restarts. Node 20 has no global
// WebSocket: the client is given the `ws` package's. Run by `tests/typescript_client.rs`, which
// names the chat binary in `CHAT_BIN`; each test starts its own server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import WebSocket from "ws";
import { connect } from "../../static/client/chat.js";
import { ClientError } from "../../static/client/index.js";

const CHAT = process.env.CHAT_BIN;
assert.ok(CHAT, "CHAT_BIN names the chat binary");

/** Starts the chat on `addr` and resolves once it listens, with its address. */
function start(addr = "127.0.0.1:0") {
  const child = spawn(CHAT, ["--addr", addr], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const end = out.indexOf("\n");
      if (end >= 0) resolve({ child, address: out.slice(0, end).trim() });
    });
    child.on("exit", (code) => reject(new Error(`the chat exited with ${code} before listening`)));
  });
}

async function stop(server) {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.on("exit", resolve));
  server.child.kill("SIGTERM");
  await exited;
}

function join(server, name, options = {}) {
  return connect(`ws://${server.address}`, { query: { name }, WebSocket, requestTimeout: 5000, ...options });
}

/** The first event of `type` that `accept` takes, within five seconds. */
function next(client, type, accept = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stopListening();
      reject(new Error(`no ${type} event within 5 s`));
    }, 5000);
    const stopListening = client.on(type, (event) => {
      if (!accept(event)) return;
      clearTimeout(timer);
      stopListening();
      resolve(event);
    });
  });
}

test("every route: a broadcast, the echo reply, a rename, and $default's answer", async () => {
  const server = await start();
  try {
    const ada = await join(server, "Ada");
    const joined = next(ada, "message", ({ message }) => message.name === "joined");
    const bob = await join(server, "Bob");
    assert.deepEqual((await joined).message, { name: "joined", payload: { type: "joined", name: "Bob" } });

    const heard = next(bob, "message", ({ message }) => message.name === "message");
    ada.sendMessage({ text: "Hello, Bob" });
    assert.deepEqual((await heard).message.payload, { type: "message", from: "Ada", text: "Hello, Bob" });

    const reply = await ada.echo({ text: "ping" });
    assert.deepEqual(reply, { type: "echo", text: "ping" });

    bob.setName({ name: "Robert" });
    const renamed = next(ada, "message", ({ message }) => message.name === "message");
    bob.sendMessage({ text: "call me Robert" });
    assert.equal((await renamed).message.payload.from, "Robert");

    // No route takes `dance`: `$default` answers with the document's `error` message, typed.
    const answered = next(ada, "message", ({ message }) => message.name === "error");
    ada.send({ action: "dance" });
    assert.equal((await answered).message.payload.type, "error");

    const left = next(ada, "message", ({ message }) => message.name === "left");
    assert.deepEqual(await bob.close(), { code: 1000, reason: "" });
    assert.equal((await left).message.payload.name, "Robert");
    await ada.close();
  } finally {
    await stop(server);
  }
});

test("error frames: an event when nothing waits, a rejected request when one does", async () => {
  const server = await start();
  try {
    const ada = await join(server, "Ada");
    const frame = next(ada, "serverError");
    ada.sendMessage({ text: "" }); // minLength 1
    const { error } = await frame;
    assert.equal(error.message, "Bad request body");
    assert.equal(typeof error.connectionId, "string");

    await assert.rejects(ada.echo({ text: 5 }), (thrown) => {
      assert.ok(thrown instanceof ClientError);
      assert.equal(thrown.kind, "server");
      assert.equal(thrown.frame.message, "Bad request body");
      return true;
    });
    // The connection is still good.
    assert.deepEqual(await ada.echo({ text: "still here" }), { type: "echo", text: "still here" });
    await ada.close();
  } finally {
    await stop(server);
  }
});

test("on Node the client's socket negotiates permessage-deflate, and compressed replies read as any other", async () => {
  const server = await start();
  try {
    const sockets = [];
    class Recorded extends WebSocket {
      constructor(...args) {
        super(...args);
        sockets.push(this);
      }
    }
    const ada = await join(server, "Ada", { WebSocket: Recorded });
    assert.match(sockets[0].extensions, /^permessage-deflate/);
    // Over the server's 64-byte threshold: the reply comes compressed.
    const text = "compressed on the wire, ".repeat(20);
    assert.deepEqual(await ada.echo({ text }), { type: "echo", text });
    ada.close();
  } finally {
    await stop(server);
  }
});

test("a refused handshake rejects with the server's status", async () => {
  const server = await start();
  try {
    await assert.rejects(connect(`ws://${server.address}`, { WebSocket }), (thrown) => {
      assert.ok(thrown instanceof ClientError);
      assert.equal(thrown.kind, "refused");
      assert.equal(thrown.status, 400);
      return true;
    });
    await assert.rejects(join(server, "   "), (thrown) => thrown.kind === "refused" && thrown.status === 400);
  } finally {
    await stop(server);
  }
});

test("the client reconnects after the server restarts, and says so", async () => {
  let server = await start();
  const ada = await join(server, "Ada", { reconnect: { initial: 50, max: 200 } });
  try {
    const dropped = next(ada, "close");
    const retrying = next(ada, "reconnecting");
    await stop(server);
    const close = await dropped;
    assert.equal(close.final, false);
    assert.equal(close.code, 1001, "the server closes with 1001 (going away) when it stops");
    assert.equal((await retrying).attempt, 1);
    assert.equal(ada.isOpen, false);
    await assert.rejects(ada.echo({ text: "nobody home" }), (thrown) => thrown.kind === "closed");

    const reopened = next(ada, "open");
    server = await start(server.address);
    await reopened;
    assert.equal(ada.isOpen, true);
    assert.deepEqual(await ada.echo({ text: "back" }), { type: "echo", text: "back" });

    const final = next(ada, "close");
    await ada.close();
    assert.deepEqual(await final, { type: "close", code: 1000, reason: "", final: true });
  } finally {
    await ada.close();
    await stop(server);
  }
});
