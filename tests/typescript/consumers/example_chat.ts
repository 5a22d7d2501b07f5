// The example chat (examples/chat/asyncapi.yaml) as its page uses it: every route, the reply, every message
// the server sends, the events; the `@ts-expect-error` lines must not compile.
import { connect, type ChatIncoming } from "./client/chat.js";
import { ClientError, type ClientEvent, type ErrorFrame } from "./client/index.js";
import type { EchoReply, Message } from "./client/types.js";

declare function show(...values: unknown[]): void;

export async function chat(): Promise<void> {
  const client = await connect("ws://127.0.0.1:8080", {
    query: { name: "Ada" },
    reconnect: { initial: 50, attempts: 3 },
  });
  // The handshake's query is required: the server refuses a connection without a name.
  // @ts-expect-error
  await connect("ws://127.0.0.1:8080", {});
  client.sendMessage({ text: "Hello" });
  client.sendMessage({ action: "sendMessage", text: "Hello" });
  const reply: EchoReply = await client.echo({ text: "ping" }, { timeout: 1000 });
  show(reply.text);
  client.on("message", ({ message }) => {
    switch (message.name) {
      case "message": {
        const payload: Message = message.payload;
        show(payload.from, payload.text);
        break;
      }
      default:
        show(message.name);
    }
  });
  client.on("serverError", ({ error }) => show(error.message, error.connectionId));
  for await (const event of client) {
    const seen: ClientEvent<ChatIncoming> = event;
    if (seen.type === "close") show(seen.code, seen.reason, seen.final);
    if (seen.type === "unknown") show(seen.data);
  }
  try {
    await client.echo({ text: "late" });
  } catch (error) {
    if (error instanceof ClientError && error.kind === "server") {
      const frame: ErrorFrame | undefined = error.frame;
      show(frame?.message);
    }
  }
  // A field the schema does not declare (it forbids others).
  // @ts-expect-error
  client.sendMessage({ text: "Hello", txt: "typo" });
  // The wrong type.
  // @ts-expect-error
  client.sendMessage({ text: 42 });
  // A route the document does not have.
  // @ts-expect-error
  client.shout({ text: "Hello" });
  // The wrong constant.
  // @ts-expect-error
  client.echo({ action: "sendMessage", text: "x" });
  // A reply is not a `Message`.
  // @ts-expect-error
  const wrong: Message = await client.echo({ text: "x" });
  show(wrong);
  await client.close();
}
