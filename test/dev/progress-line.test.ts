import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { startProgressLine } from "../../src/dev/progress-line.js";

/** A stream that says it is a terminal, keeping what was written. */
function terminal(): Writable & { isTTY: boolean; text: string } {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      stream.text += chunk.toString();
      done();
    },
  }) as Writable & { isTTY: boolean; text: string };
  stream.isTTY = true;
  stream.text = "";
  return stream;
}

async function until(predicate: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 10_000; !predicate(); ) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the dev and demo status line", () => {
  it("on a terminal, is rewritten in place; a status that throws is shown, not thrown from the timer", async () => {
    const out = terminal();
    let calls = 0;
    const progress = startProgressLine(
      out,
      () => {
        calls++;
        if (calls === 1) throw new Error("no scrape yet");
        return "  1.0 s  calls 1/1";
      },
      { ttyMs: 10 },
    );
    await until(() => calls >= 2);
    progress.line("DTMF 1 sent to 1 call");
    progress.stop();
    expect(out.text).toContain("\r  (status unavailable: no scrape yet)");
    expect(out.text).toContain("\r  1.0 s  calls 1/1");
    expect(out.text).toMatch(/\r {100}\rDTMF 1 sent to 1 call\n/);
    expect(out.text.endsWith("\n")).toBe(true);
  });
});
