// Absent, null and a value: optional fields are `?`, the ones that keep `null` are `| null`.
import { connect } from "./client/profile.js";
import type { ProfileUpdate } from "./client/types.js";

export async function nullable(): Promise<void> {
  const client = await connect("ws://127.0.0.1:8080");
  const cleared: ProfileUpdate = {
    id: "u1",
    replyTo: null,
    nickname: null,
    score: null,
    mood: null,
    avatar: null,
    note: null,
    anything: null,
    settings: null,
    choice: null,
  };
  client.update(cleared);
  client.update({
    id: "u1",
    replyTo: "m7",
    nickname: "ada",
    score: 3,
    mood: "happy",
    avatar: { url: "https://example.com/a.png" },
    note: "a note",
    anything: [1, 2],
    settings: { theme: "dark" },
    choice: 5,
    required: null,
  });
  client.update({ id: "u1", required: "x" });
  // `id` is required.
  // @ts-expect-error
  client.update({ nickname: "ada" });
  // `plain` is optional but does not keep `null`.
  // @ts-expect-error
  client.update({ id: "u1", plain: null });
  // Not one of the enum's values.
  // @ts-expect-error
  client.update({ id: "u1", mood: "angry" });
  // `avatar.url` is required.
  // @ts-expect-error
  client.update({ id: "u1", avatar: {} });
}
