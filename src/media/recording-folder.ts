import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";

/**
 * Where one recording of a call is stored: `<recordingsDir>/<call id>-<UTC time>[-<n>]`, a name
 * valid on Windows as on Linux. Call ids come from Graph's notifications (up to 256 characters
 * of `A-Za-z0-9._:@=+-`): every character outside `A-Za-z0-9._-` becomes `_` (':' is not
 * allowed in a Windows file name), and a long id is cut to CALL_ID_NAME_CHARS with a digest of
 * the whole id, so the name stays far below the 255 characters a file name may have on NTFS
 * and ext4. Different ids can give the same name ("a:b" and "a@b"; "A" and "a" on Windows,
 * whose file names ignore case), so the folder is created exclusively, with `-2`, `-3`... when
 * the name is taken: two recordings never share files.
 */
export const CALL_ID_NAME_CHARS = 96;
const MAX_SAME_NAME = 1000;

/** `text` as a part of a file name: only `A-Za-z0-9._-`, at most maxChars characters. */
export function fileNamePart(text: string, maxChars: number): string {
  const safe = text.replace(/[^A-Za-z0-9._-]/g, "_");
  if (safe.length <= maxChars) return safe;
  const digest = createHash("sha256").update(text).digest("hex").slice(0, 12);
  return `${safe.slice(0, maxChars - digest.length - 1)}_${digest}`;
}

/** The folder's name for a recording started at `at` (UTC, to the millisecond; no ':'). */
export function recordingFolderName(callId: string, at: Date): string {
  return `${fileNamePart(callId, CALL_ID_NAME_CHARS)}-${at.toISOString().replace(/[:.]/g, "-")}`;
}

/** Creates the recording's folder (and recordingsDir if needed); resolves with its path. */
export async function createRecordingFolder(
  recordingsDir: string,
  callId: string,
  at: Date,
): Promise<string> {
  await mkdir(recordingsDir, { recursive: true });
  const name = recordingFolderName(callId, at);
  for (let n = 1; n <= MAX_SAME_NAME; n++) {
    const directory = join(recordingsDir, n === 1 ? name : `${name}-${n}`);
    try {
      await mkdir(directory);
      return directory;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  throw new Error(`${MAX_SAME_NAME} recordings named ${name} exist already in ${recordingsDir}`);
}
