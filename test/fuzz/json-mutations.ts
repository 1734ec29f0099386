/** Random mutations of realistic JSON documents: a node replaced, removed, retyped or recased. */
import fc from "fast-check";

type Json = unknown;

/** Paths of every node (the root is []). */
function paths(
  value: Json,
  at: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  out.push(at);
  if (Array.isArray(value)) for (const [i, item] of value.entries()) paths(item, [...at, i], out);
  else if (value !== null && typeof value === "object")
    for (const [key, item] of Object.entries(value)) paths(item, [...at, key], out);
  return out;
}

function replaceAt(root: Json, path: (string | number)[], make: (old: Json) => Json | undefined): Json {
  if (path.length === 0) return make(root) ?? null;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(root)) {
    const copy = [...root];
    const next = rest.length === 0 ? make(copy[head as number]) : replaceAt(copy[head as number], rest, make);
    if (next === undefined) copy.splice(head as number, 1);
    else copy[head as number] = next;
    return copy;
  }
  const copy = { ...(root as Record<string, Json>) };
  const next = rest.length === 0 ? make(copy[head as string]) : replaceAt(copy[head as string], rest, make);
  if (next === undefined) delete copy[head as string];
  else copy[head as string] = next;
  return copy;
}

type Edit =
  | { kind: "replace"; at: number; value: Json }
  | { kind: "remove"; at: number }
  | { kind: "stringify"; at: number }
  | { kind: "recase"; at: number }
  | { kind: "wrap"; at: number }
  | { kind: "pad"; at: number; pad: string };

function apply(root: Json, edit: Edit): Json {
  const all = paths(root);
  const path = all[edit.at % all.length] as (string | number)[];
  return replaceAt(root, path, (old) => {
    switch (edit.kind) {
      case "replace":
        return edit.value;
      case "remove":
        return undefined;
      case "stringify":
        return typeof old === "string" ? old : JSON.stringify(old);
      case "recase":
        return typeof old === "string" ? old.charAt(0).toUpperCase() + old.slice(1) : old;
      case "wrap":
        return [old];
      case "pad":
        return typeof old === "string" ? `${edit.pad}${old}${edit.pad}` : old;
    }
  });
}

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), value: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ kind: fc.constant("remove" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("stringify" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("recase" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("wrap" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("pad" as const),
    at: fc.nat(),
    pad: fc.constantFrom(" ", "/", "%", "%2F", "\u0000", "\n", "../"),
  }),
);

/** One of `bases` with one to four random edits. */
export function mutatedJson(bases: readonly Json[]): fc.Arbitrary<Json> {
  return fc
    .tuple(fc.constantFrom(...bases), fc.array(edit, { minLength: 1, maxLength: 4 }))
    .map(([base, edits]) => edits.reduce(apply, base));
}
