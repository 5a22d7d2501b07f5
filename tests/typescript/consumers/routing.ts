// Four ways to select a route: every channel's routes, with the constants the client fills in.
import { explicit, inferred, nested, plain } from "./client/index.js";

export async function routing(): Promise<void> {
  const a = await explicit.connect("ws://127.0.0.1:8080");
  a.chatSend({ text: "hi" });
  const b = await inferred.connect("ws://127.0.0.1:8080");
  b.subscribe({ pair: "BTC/USD" });
  b.ping({});
  const c = await nested.connect("ws://127.0.0.1:8080");
  c.hello({ meta: { kind: "hello" } });
  const d = await plain.connect("ws://127.0.0.1:8080");
  d.join({ room: "r" });
  d.leave({ room: "r" });
  // Routes belong to their channel.
  // @ts-expect-error
  a.subscribe({ pair: "BTC/USD" });
  // The constant the route pins.
  // @ts-expect-error
  b.subscribe({ event: "ping" });
  // A nested constant.
  // @ts-expect-error
  c.hello({ meta: { kind: "bye" } });
}
