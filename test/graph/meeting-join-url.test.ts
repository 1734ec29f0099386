import { describe, expect, it } from "vitest";
import { MeetingJoinUrlError, parseMeetingJoinUrl } from "../../src/graph/meeting-join-url.js";
import { MeetingJoinUrlError as Exported } from "../../src/index.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const ORGANIZER = "550fae72-d251-43ec-868c-373732c2704f";
const THREAD = "19:meeting_NTg0NmQ3NTctZDVkZC00YzRhLThmNmEtOGQ3M2E0ODdmZDZk@thread.v2";

/** A link as Teams writes it: thread id and context URL-encoded. */
function link(host = "teams.microsoft.com", context = `{"Tid":"${TENANT}","Oid":"${ORGANIZER}"}`): string {
  return `https://${host}/l/meetup-join/${encodeURIComponent(THREAD)}/0?context=${encodeURIComponent(context)}`;
}

function problem(input: unknown): string {
  try {
    parseMeetingJoinUrl(input);
  } catch (error) {
    expect(error).toBeInstanceOf(MeetingJoinUrlError);
    return (error as MeetingJoinUrlError).message;
  }
  throw new Error(`parsed ${String(input)}`);
}

describe("parseMeetingJoinUrl", () => {
  it("reads thread, message, tenant and organizer from a link as Teams writes it", () => {
    expect(parseMeetingJoinUrl(link())).toEqual({
      threadId: THREAD,
      messageId: "0",
      tenantId: TENANT,
      organizerId: ORGANIZER,
    });
  });

  it("accepts the raw (unencoded) context, a twice-encoded one, and the government hosts", () => {
    const raw = `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(THREAD)}/0?context={"Tid":"${TENANT}","Oid":"${ORGANIZER}"}`;
    expect(parseMeetingJoinUrl(raw).organizerId).toBe(ORGANIZER);
    const twice = `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(THREAD)}/0?context=${encodeURIComponent(encodeURIComponent(`{"Tid":"${TENANT}","Oid":"${ORGANIZER}"}`))}`;
    expect(parseMeetingJoinUrl(twice).tenantId).toBe(TENANT);
    for (const host of ["gov.teams.microsoft.us", "dod.teams.microsoft.us", "teams.cloud.microsoft"]) {
      expect(parseMeetingJoinUrl(link(host)).threadId).toBe(THREAD);
    }
    expect(parseMeetingJoinUrl(`  ${link()}\n`).threadId).toBe(THREAD);
  });

  it("reads a channel meeting's message id and reply chain (context.MessageId)", () => {
    const channel = "19:0d7c4f1f9b5d4d8e8e5d6b2c7f2a1b3c@thread.tacv2";
    const url = `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(channel)}/1605285830000?context=${encodeURIComponent(`{"Tid":"${TENANT}","Oid":"${ORGANIZER}","MessageId":"1605285829000"}`)}`;
    expect(parseMeetingJoinUrl(url)).toEqual({
      threadId: channel,
      messageId: "1605285830000",
      tenantId: TENANT,
      organizerId: ORGANIZER,
      replyChainMessageId: "1605285829000",
    });
  });

  it("names what is wrong with links that are not Teams meeting links", () => {
    expect(problem(42)).toContain("not a string");
    expect(problem("  ")).toContain("empty");
    expect(problem("teams meeting tomorrow")).toContain("is not a URL");
    expect(problem(link().replace("https:", "http:"))).toContain("not https");
    expect(problem(link("evil.example.com"))).toContain('host "evil.example.com" is not a Teams host');
    expect(problem("https://teams.live.com/meet/9876543210?p=abc")).toContain("teams.live.com");
    expect(problem("https://teams.microsoft.com/meet/29548474387?p=1K3k")).toContain(
      "meeting id and passcode",
    );
    expect(problem("https://teams.microsoft.com/l/chat/0/0?users=a@b.c")).toContain("/l/meetup-join/");
    expect(problem(`https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(THREAD)}`)).toContain(
      "<thread id>/<message id>",
    );
    expect(problem(link().replace(encodeURIComponent(THREAD), "meeting%40x"))).toContain("thread id");
    expect(problem(link().replace(encodeURIComponent(THREAD), "%E0%A4%A"))).toContain("URL encoding");
    expect(problem(link().replace("/0?", "/abc?"))).toContain("message id");
    expect(problem(link().split("?")[0])).toContain("no context parameter");
    expect(problem(link(undefined, "{not json"))).toContain("is not JSON");
    expect(problem(link(undefined, "[1]"))).toContain("not a JSON object");
    expect(problem(link(undefined, `{"Oid":"${ORGANIZER}"}`))).toContain("context.Tid");
    expect(problem(link(undefined, `{"Tid":"${TENANT}","Oid":"bob"}`))).toContain("context.Oid");
    expect(problem(link(undefined, `{"Tid":"${TENANT}","Oid":"${ORGANIZER}","MessageId":7}`))).toContain(
      "context.MessageId",
    );
    expect(problem(`${link()}${"x".repeat(5000)}`)).toContain("more than 4096");
  });

  it("is exported from the package entry point", () => {
    expect(Exported).toBe(MeetingJoinUrlError);
  });
});
