// The chat fixture (AsyncAPI 3.0): two one-way routes and one message from the server.
import { connect, type ChatIncoming } from "./client/chat.js";
import type { SendMessage } from "./client/types.js";

declare function show(...values: unknown[]): void;

export async function chatV3(): Promise<void> {
  const client = await connect("ws://127.0.0.1:8080", { connectTimeout: 500 });
  const message: SendMessage = { action: "sendMessage", text: "Hello" };
  client.sendMessage(message);
  client.echo({ action: "echo" });
  for await (const event of client.events()) {
    if (event.type === "message") {
      const incoming: ChatIncoming = event.message;
      show(incoming.payload.text);
    }
  }
  // A message of the server is not sent.
  // @ts-expect-error
  client.message({ text: "Hello" });
  // The wrong type.
  // @ts-expect-error
  client.echo({ action: 1 });
}
