/**
 * Whatever string arrives as a join link, parseMeetingJoinUrl returns a well-formed result or
 * throws MeetingJoinUrlError: never another exception, never a result with empty fields.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MeetingJoinUrlError, parseMeetingJoinUrl } from "../../src/graph/meeting-join-url.js";
import { fuzz, timeoutFor } from "./fuzz-runner.js";

const VALID =
  "https://teams.microsoft.com/l/meetup-join/19%3ameeting_NTg0NmQ3NTct%40thread.v2/0?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c%22Oid%22%3a%22550fae72-d251-43ec-868c-373732c2704f%22%7d";

function resultOrError(input: string): void {
  let info: ReturnType<typeof parseMeetingJoinUrl>;
  try {
    info = parseMeetingJoinUrl(input);
  } catch (error) {
    if (!(error instanceof MeetingJoinUrlError)) throw error;
    expect(error.problem.length).toBeGreaterThan(0);
    return;
  }
  for (const value of [info.threadId, info.messageId, info.tenantId, info.organizerId]) {
    expect(typeof value).toBe("string");
    expect(value.length).toBeGreaterThan(0);
  }
}

/** The valid link with characters replaced, inserted or cut at random places. */
const mutatedLink = fc
  .array(
    fc.record({
      at: fc.nat({ max: VALID.length }),
      cut: fc.nat({ max: 4 }),
      insert: fc.oneof(
        fc.string({ maxLength: 4 }),
        fc.constantFrom("%", "%7b", "%22", "/", "?", "#", "%E0%A4", "\u0000", "}", "{", "\\"),
      ),
    }),
    { maxLength: 4 },
  )
  .map((edits) =>
    edits.reduce(
      (text, edit) => text.slice(0, edit.at) + edit.insert + text.slice(edit.at + edit.cut),
      VALID,
    ),
  );

const ciRuns = 2000;

describe("parseMeetingJoinUrl (fuzz)", () => {
  it(
    "gives a result or MeetingJoinUrlError for arbitrary strings, URLs and mutated links",
    () => {
      fuzz(
        "meeting join url",
        ciRuns,
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ unit: "binary", maxLength: 300 }),
          fc.webUrl({ withQueryParameters: true, withFragments: true }),
          mutatedLink,
        ),
        resultOrError,
      );
    },
    timeoutFor(ciRuns, 20_000),
  );

  it(
    "returns the parts a well-formed link was built from",
    () => {
      const part = fc.stringMatching(/^[A-Za-z0-9_\-=.]{1,40}$/);
      const guid = fc.uuid();
      fuzz(
        "meeting join url round trip",
        ciRuns / 4,
        fc.record({
          id: part,
          kind: fc.constantFrom("v2", "tacv2", "skype"),
          message: fc.bigInt({ min: 0n, max: 10n ** 15n }),
          tenant: guid,
          organizer: guid,
        }),
        ({ id, kind, message, tenant, organizer }) => {
          const threadId = `19:${id.replaceAll(".", "_")}@thread.${kind}`;
          const url = `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(threadId)}/${message}?context=${encodeURIComponent(JSON.stringify({ Tid: tenant, Oid: organizer }))}`;
          expect(parseMeetingJoinUrl(url)).toEqual({
            threadId,
            messageId: String(message),
            tenantId: tenant,
            organizerId: organizer,
          });
        },
      );
    },
    timeoutFor(ciRuns / 4, 20_000),
  );
});
