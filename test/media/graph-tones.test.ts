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
});
