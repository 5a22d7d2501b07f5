// Names that are not identifiers: quoted properties, keyword-named routes and types.
import { connect } from "./client/n2nd_room_lobby.js";
import { n2ndRoomLobby } from "./client/index.js";
import type { OptionType, StringType, Type } from "./client/types.js";

export async function names(): Promise<void> {
  const client = await n2ndRoomLobby.connect("ws://127.0.0.1:8080");
  const same = await connect("ws://127.0.0.1:8080");
  const type: Type = { type: "t", self: "s", "a-b": "x", a_b: "y", "café": "z", "1st": 1, $ref: "#" };
  client.type(type);
  const text: StringType = "text";
  same.string(text);
  const option: OptionType = { Option: true };
  client.option(option);
  // `1st` is a number.
  // @ts-expect-error
  client.type({ "1st": "first" });
  // The payload is a string.
  // @ts-expect-error
  client.string(1);
}
