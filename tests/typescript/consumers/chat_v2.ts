// The chat fixture (AsyncAPI 2.6): two one-way routes and one message from the server.
import { connect } from "./client/chat.js";
import type { Message } from "./client/types.js";

declare function show(...values: unknown[]): void;

export async function chatV2(): Promise<void> {
  const client = await connect("ws://127.0.0.1:8080");
  client.sendMessage({ text: "Hello" });
  client.echo({});
  client.on("message", ({ message }) => {
    const payload: Message = message.payload;
    show(message.name === "message", payload.text);
  });
  // The wrong type.
  // @ts-expect-error
  client.sendMessage({ text: 1 });
  // The wrong constant.
  // @ts-expect-error
  client.echo({ action: "sendMessage" });
  // A route the document does not have.
  // @ts-expect-error
  client.send_message({ text: "Hello" });
  await client.close();
}
