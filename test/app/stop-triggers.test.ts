/**
 * The bot's stop triggers (src/app/stop-triggers.ts): which signals stop it on each platform
 * (Windows raises SIGBREAK and SIGHUP, never SIGTERM), the end or failure of stdin when
 * watched, one stop only, and nothing left listening once removed.
 */
import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { installStopTriggers, stopSignals } from "../../src/app/stop-triggers.js";

function install(options: { platform: NodeJS.Platform; stdin?: PassThrough }) {
  const signals = new EventEmitter();
  const reasons: string[] = [];
  const remove = installStopTriggers((reason) => reasons.push(reason), { ...options, signals });
  return { signals, reasons, remove };
}

describe("stop triggers", () => {
  it("stops on Windows' console events (Ctrl+C, Ctrl+Break, console closed) as on SIGTERM elsewhere", () => {
    expect(stopSignals("linux")).toEqual(["SIGTERM", "SIGINT"]);
    expect(stopSignals("win32")).toEqual(expect.arrayContaining(["SIGINT", "SIGBREAK", "SIGHUP"]));
    for (const signal of ["SIGBREAK", "SIGHUP", "SIGINT"]) {
      const t = install({ platform: "win32" });
      t.signals.emit(signal);
      expect(t.reasons).toEqual([signal]);
    }
  });

  it("stops once, whatever comes after the first trigger", () => {
    const stdin = new PassThrough();
    const t = install({ platform: "linux", stdin });
    t.signals.emit("SIGTERM");
    t.signals.emit("SIGINT");
    stdin.end();
    expect(t.reasons).toEqual(["SIGTERM"]);
  });

  it("stops when stdin ends, reading and dropping what is written before", async () => {
    const stdin = new PassThrough();
    const t = install({ platform: "win32", stdin });
    stdin.write("anything\r\n");
    await new Promise((resolve) => setImmediate(resolve));
    expect(t.reasons).toEqual([]);
    stdin.end();
    await new Promise((resolve) => stdin.once("end", resolve));
    expect(t.reasons).toEqual(["stdin ended"]);
  });

  it("stops when stdin fails (the wrapper's end of the pipe broke)", () => {
    const stdin = new PassThrough();
    const t = install({ platform: "linux", stdin });
    stdin.destroy(new Error("EPIPE"));
    return new Promise<void>((resolve) =>
      stdin.once("close", () => {
        expect(t.reasons[0]).toBe("stdin failed");
        resolve();
      }),
    );
  });

  it("does not watch stdin unless asked, and removes every listener", () => {
    const t = install({ platform: "win32" });
    expect(t.signals.listenerCount("SIGBREAK")).toBe(1);
    t.remove();
    for (const signal of stopSignals("win32")) expect(t.signals.listenerCount(signal)).toBe(0);
    const stdin = new PassThrough();
    const w = install({ platform: "linux", stdin });
    w.remove();
    expect(stdin.listenerCount("end") + stdin.listenerCount("close") + stdin.listenerCount("error")).toBe(0);
  });
});
