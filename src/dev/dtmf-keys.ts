/** Graph's tone names (microsoft.graph.tone) of the keys a caller can press: 0-9 * # A-D. */
const TONES: Record<string, string> = {
  "*": "star",
  "#": "pound",
  a: "a",
  b: "b",
  c: "c",
  d: "d",
};

/** The Graph tone of a typed key, or undefined when the key is not a DTMF key. */
export function toneOfKey(key: string): string | undefined {
  if (/^[0-9]$/.test(key)) return `tone${key}`;
  return TONES[key.toLowerCase()];
}
