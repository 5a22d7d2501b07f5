// A two-way route correlated by id, address parameters, a query and a header.
import { connect } from "./client/room.js";
import type { Pong } from "./client/types.js";

declare function show(...values: unknown[]): void;

export async function replyAndParams(): Promise<void> {
  const client = await connect("ws://127.0.0.1:8080", {
    params: { roomId: "r1", userId: "alice" },
    query: { token: "t", lang: "en" },
    headers: { "x-api-key": "k" },
  });
  const pong: Pong = await client.ping({ id: "1", seq: 1 });
  show(pong.seq, pong.id);
  // The query's token is required.
  // @ts-expect-error
  await connect("ws://127.0.0.1:8080", { params: { roomId: "r1", userId: "alice" }, query: {}, headers: { "x-api-key": "k" } });
  // The parameters are required.
  // @ts-expect-error
  await connect("ws://127.0.0.1:8080", { query: { token: "t" }, headers: { "x-api-key": "k" } });
  // `seq` is an integer.
  // @ts-expect-error
  await client.ping({ seq: "1" });
  // The reply is a `Pong`, whose `seq` is a number.
  // @ts-expect-error
  const text: string = (await client.ping({})).seq;
  show(text);
}
