/**
 * Recording folder names (src/media/recording-folder.ts) are valid Windows file names for any
 * call id signaling accepts, distinct for distinct long ids, and never shared.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  CALL_ID_NAME_CHARS,
  createRecordingFolder,
  fileNamePart,
  recordingFolderName,
} from "../../src/media/recording-folder.js";

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i;

/** What Windows refuses in a file name (the rules of Win32 path naming). */
function validWindowsFileName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= 255 &&
    !/[<>:"/\\|?*]/.test(name) &&
    ![...name].some((c) => c.charCodeAt(0) < 32) &&
    !/[. ]$/.test(name) &&
    !WINDOWS_RESERVED.test(name)
  );
}

const AT = new Date("2026-12-07T22:41:15.123Z");

describe("recording folder names", () => {
  it("are valid on Windows for ids with every character signaling accepts", () => {
    for (const id of [
      "19:meeting_abc@thread.v2",
      "a=b+c",
      "CON",
      "..",
      "x.",
      "00000000-0000-0000-0000-000000000000",
    ]) {
      const name = recordingFolderName(id, AT);
      expect(validWindowsFileName(name), name).toBe(true);
      expect(path.win32.basename(path.win32.join("C:\\recordings", name))).toBe(name);
    }
    expect(recordingFolderName("19:meeting_abc@thread.v2", AT)).toBe(
      "19_meeting_abc_thread.v2-2026-12-07T22-41-15-123Z",
    );
  });

  it("cut a long id to CALL_ID_NAME_CHARS with a digest: short, and distinct for ids sharing a prefix", () => {
    const prefix = "p".repeat(200);
    const a = fileNamePart(`${prefix}a`, CALL_ID_NAME_CHARS);
    const b = fileNamePart(`${prefix}b`, CALL_ID_NAME_CHARS);
    expect(a).toHaveLength(CALL_ID_NAME_CHARS);
    expect(a).not.toBe(b);
    expect(validWindowsFileName(recordingFolderName("x".repeat(256), AT))).toBe(true);
    expect(fileNamePart("short", CALL_ID_NAME_CHARS)).toBe("short");
  });
});

describe("createRecordingFolder", () => {
  let root = "";
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("creates the recordings directory, then one new folder per recording even when names collide", async () => {
    root = await mkdtemp(path.join(tmpdir(), "recording-folder-"));
    const dir = path.join(root, "nested", "recordings");
    const folders = await Promise.all(["a:b", "a@b", "a+b"].map((id) => createRecordingFolder(dir, id, AT)));
    expect(new Set(folders).size).toBe(3);
    expect((await readdir(dir)).sort()).toEqual([
      "a_b-2026-12-07T22-41-15-123Z",
      "a_b-2026-12-07T22-41-15-123Z-2",
      "a_b-2026-12-07T22-41-15-123Z-3",
    ]);
  });
});
