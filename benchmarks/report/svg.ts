/**
 * The few pieces of SVG text the charts are made of. Every piece of text that came from data
 * (series names, titles, machine names) goes through escapeXml; numbers are written with a
 * fixed small precision so the files diff cleanly between runs.
 */

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/** Text or attribute value safe inside an SVG (XML) document. Control characters are dropped. */
export function escapeXml(text: string): string {
  // XML 1.0 allows tab, newline and carriage return among the C0 controls, nothing else.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to remove them
  const withoutControls = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "");
  return withoutControls.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

export type Attributes = Record<string, string | number | undefined>;

/** Pixel coordinates: two decimals are plenty and keep files small. */
export function px(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function attributes(attrs: Attributes): string {
  let out = "";
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    const text = typeof value === "number" ? px(value) : value;
    out += ` ${name}="${escapeXml(text)}"`;
  }
  return out;
}

/** An element; `children` is already SVG (use text() for character data). */
export function el(tag: string, attrs: Attributes, children: string | string[] = ""): string {
  const body = Array.isArray(children) ? children.join("") : children;
  return body === "" ? `<${tag}${attributes(attrs)}/>` : `<${tag}${attributes(attrs)}>${body}</${tag}>`;
}

/** A <text> element with escaped content. */
export function text(x: number, y: number, content: string, attrs: Attributes = {}): string {
  return el("text", { x, y, ...attrs }, escapeXml(content));
}

/**
 * A tick or data label: up to 3 significant digits below 1000, whole numbers with thousands
 * separators above, no trailing zeros (0.25, 1.5, 20, 1,000).
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? "∞" : value < 0 ? "-∞" : "NaN";
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString("en-US");
  if (abs >= 100) return String(Math.round(value));
  return String(Number(value.toPrecision(3)));
}

/** Rough rendered width of a label (no font metrics in a hand-written SVG): sans-serif average. */
export function textWidth(content: string, fontSize: number): number {
  return content.length * fontSize * 0.6;
}

/** System sans-serif fonts only: the file loads nothing. */
export const FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";

/** Okabe-Ito colours: told apart with the common colour-vision deficiencies. */
export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];

/** Splits text into lines of at most `maxWidth` (estimated), at spaces; a longer word stays whole. */
export function wrapText(content: string, maxWidth: number, fontSize: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of content.split(/\s+/).filter((w) => w !== "")) {
    const candidate = line === "" ? word : `${line} ${word}`;
    if (line !== "" && textWidth(candidate, fontSize) > maxWidth) {
      lines.push(line);
      line = word;
    } else {
      line = candidate;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}
