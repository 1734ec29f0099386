import { describe, expect, it } from "vitest";
import type { LoadedHandler } from "../../src/media/handler-loader.js";
import { startEngine } from "./engine-fixture.js";

const params = (callId: string) => ({ callId, direction: "sendRecv" as const, unmixedAudio: false });

describe("tones from Graph notifications", () => {
  it("gives handlers Graph's tones in the media platform's vocabulary", async () => {
    const tones: [string, string][] = [];
    const handler: LoadedHandler = {
      name: "listener",
      options: undefined,
      factory: () => ({ onTone: (tone, origin) => void tones.push([tone, origin]) }),
    };
    const { engine } = startEngine({ handlers: [handler] });
    await engine.createSession(params("T"));
    for (const tone of ["tone1", "Tone0", "pound", "star"]) engine.toneFromGraph("T", tone);
    expect(tones).toEqual([
      ["1", "graph"],
      ["0", "graph"],
      ["pound", "graph"],
      ["star", "graph"],
    ]);
    await engine.shutdown();
  });

  it("ignores and counts a Graph tone outside Graph's tone enum instead of passing it on", async () => {
    const tones: string[] = [];
    const handler: LoadedHandler = {
      name: "listener",
      options: undefined,
      factory: () => ({ onTone: (tone) => void tones.push(tone) }),
    };
    const { engine, metric } = startEngine({ handlers: [handler] });
    await engine.createSession(params("U"));
    for (const tone of ["tone12", "hash", "", "Flash"]) engine.toneFromGraph("U", tone);
    expect(tones).toEqual(["flash"]);
    expect(await metric('media_tones_ignored_total{origin="graph"}')).toBe(3);
    await engine.shutdown();
  });
});
