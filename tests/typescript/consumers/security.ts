// A channel whose server asks for a bearer token or an API key: the token goes with `accessToken`;
// both routes fill in their `action`.
import { connect } from "./client/feed.js";

export async function security(): Promise<void> {
  const feed = await connect("wss://feed.example.com", { accessToken: "eyJhbGciOi…" });
  feed.subscribe({ symbol: "ACME" });
  feed.placeOrder({ symbol: "ACME" });
  // The token is text.
  // @ts-expect-error
  await connect("wss://feed.example.com", { accessToken: 42 });
  // `symbol` is required.
  // @ts-expect-error
  feed.placeOrder({});
  await feed.close();
}
