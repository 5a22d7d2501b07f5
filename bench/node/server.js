// The Node.js peer of ws-runtime in the throughput benchmark: the `ws` package, routing by
// `action` as API Gateway does, `ajv` validation of each routed message, and the same replies
// (`echo` answers `{"type":"echo","text":…}`; a known route with an invalid body gets
// `Bad request body`; an unknown route gets `Forbidden`). Prints `LISTENING host:port`.
// With WORKERS=N (N > 1), Node's `cluster` runs N such servers on one port (the primary hands
// connections out round robin); they exit with the primary.
"use strict";
const cluster = require("node:cluster");
const { WebSocketServer } = require("ws");
const Ajv = require("ajv");

const ajv = new Ajv({ allErrors: false });
const routes = {
  echo: ajv.compile({ type: "object", required: ["text"], properties: { text: { type: "string" } } }),
  sendMessage: ajv.compile({
    type: "object", required: ["action", "text"],
    properties: { action: { const: "sendMessage" }, text: { type: "string", minLength: 1 } },
  }),
};

const workers = Number(process.env.WORKERS || "1");
if (workers > 1 && cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < workers; i++) {
    cluster.fork().on("message", (address) => {
      listening += 1;
      if (listening === workers) console.log(`LISTENING ${address}`);
    });
  }
  return;
}
if (cluster.isWorker) process.on("disconnect", () => process.exit(0));

// In a cluster, every worker's `port: 0` is the same port.
const server = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/chat", maxPayload: 128 * 1024 });
server.on("listening", () => {
  const { address, port } = server.address();
  if (cluster.isWorker) process.send(`${address}:${port}`);
  else console.log(`LISTENING ${address}:${port}`);
});
server.on("connection", (socket) => {
  socket.on("message", (data, isBinary) => {
    if (isBinary) return;
    let body;
    try { body = JSON.parse(data); } catch { body = undefined; }
    const key = body && typeof body.action === "string" ? body.action : "";
    const validate = routes[key];
    if (!validate) { socket.send(JSON.stringify({ message: "Forbidden" })); return; }
    if (!validate(body)) { socket.send(JSON.stringify({ message: "Bad request body" })); return; }
    if (key === "echo") socket.send(JSON.stringify({ type: "echo", text: body.text }));
  });
});
