// Every JSON Schema shape the generator maps, as TypeScript: enums as literal unions, a tagged
// union, tuples, maps, a recursive type, additional properties as an index signature.
import { connect } from "./client/shapes.js";
import type { Everything, EverythingShape, Tree } from "./client/types.js";

declare function show(...values: unknown[]): void;

export async function mapping(): Promise<void> {
  const client = await connect("ws://127.0.0.1:8080");
  const circle: EverythingShape = { type: "circle", radius: 1 };
  const tree: Tree = { value: 1, children: [{ value: 2 }], parent: { value: 0 } };
  const everything: Everything = {
    kind: "everything",
    id: 1,
    label: "all",
    maybeNull: null,
    optionalNullable: null,
    color: "red",
    level: 2,
    shape: circle,
    anyId: "a1",
    merged: { b: 1 },
    tags: { a: 1 },
    point: [1, 2],
    list: ["x"],
    tree,
    when: "2024-01-01T00:00:00Z",
    anything: { any: ["json", 1, null] },
    extra: "kept",
  };
  client.everything(everything);
  const { kind, ...rest } = everything;
  show(kind);
  client.everything(rest);
  // Not one of the enum's values.
  // @ts-expect-error
  client.everything({ ...rest, color: "purple" });
  // An integer enum takes 1, 2 or 3.
  // @ts-expect-error
  client.everything({ ...rest, level: 4 });
  // The tag picks the variant: a circle has a radius.
  // @ts-expect-error
  client.everything({ ...rest, shape: { type: "circle", side: 1 } });
  // A tuple of two numbers.
  // @ts-expect-error
  client.everything({ ...rest, point: [1, "2"] });
  // `maybeNull` is required (it may be null).
  // @ts-expect-error
  const missing: Everything = { kind: "everything", id: 1, label: "x" };
  show(missing);
}
