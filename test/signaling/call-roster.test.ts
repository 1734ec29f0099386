/**
 * Meeting rosters: Graph's participant notifications (updated = full roster, created = joins,
 * deleted = leaves) applied in order per call, stale ones (a lower rosterSequenceNumber)
 * skipped and counted, and the resulting roster handed to the media side with each
 * participant's kind and role.
 */
import fc from "fast-check";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import type { Participant } from "../../src/graph/types.js";
import { silentLogger } from "../../src/log/logger.js";
import { toRosterParticipants } from "../../src/media/roster.js";
import { CallRoster, type RosterChange } from "../../src/signaling/call-roster.js";
import { parseNotificationBatch } from "../../src/signaling/notification-parser.js";
import { SignalingService } from "../../src/signaling/signaling-service.js";
import { FakeGraph, FakeVerifier, RecordingMediaProvider, testConfig, until } from "./helpers/fakes.js";
import { APP_ID, TENANT } from "./helpers/key-server.js";

const person = (id: string, sequence?: number): Participant => ({
  id,
  info: { identity: { user: { id: `user-${id}`, displayName: id } } },
  isMuted: false,
  isInLobby: false,
  ...(sequence === undefined ? {} : { rosterSequenceNumber: sequence }),
});

describe("CallRoster", () => {
  it("applies updated as the full roster, created as joins, deleted as leaves", () => {
    const roster = new CallRoster();
    expect(roster.apply({ changeType: "updated", participants: [person("a"), person("b")] })).toBe("applied");
    roster.apply({ changeType: "created", participants: [person("c")] });
    roster.apply({ changeType: "deleted", participants: [person("a")] });
    expect(roster.participants.map((p) => p.id)).toEqual(["b", "c"]);
    roster.apply({ changeType: "updated", participants: [person("d")] });
    expect(roster.participants.map((p) => p.id)).toEqual(["d"]);
  });

  it("skips a notification numbered below the last applied one", () => {
    const roster = new CallRoster();
    roster.apply({ changeType: "updated", sequenceNumber: 5n, participants: [person("a"), person("b")] });
    // An older full roster arriving late must not bring back who left or drop who joined.
    roster.apply({ changeType: "deleted", sequenceNumber: 7n, participants: [person("b")] });
    expect(roster.apply({ changeType: "updated", sequenceNumber: 6n, participants: [person("b")] })).toBe(
      "stale",
    );
    expect(roster.participants.map((p) => p.id)).toEqual(["a"]);
    expect(roster.sequenceNumber).toBe(7n);
  });

  it("property: any arrival order ends in the highest-numbered full roster plus the deltas after it", () => {
    // A true history: numbered changes 1..n applied in order give the truth. Delivery shuffles
    // everything before the last full roster F and interleaves it anywhere with F and the
    // deltas after F (which keep their order): the result must be the truth.
    const ids = fc.constantFrom("a", "b", "c", "d", "e", "f");
    const change = fc.record({
      changeType: fc.constantFrom<RosterChange["changeType"]>("updated", "created", "deleted"),
      ids: fc.uniqueArray(ids, { maxLength: 4 }),
    });
    fc.assert(
      fc.property(
        fc.array(change, { minLength: 1, maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.boolean(),
        (history, randomness, duplicate) => {
          const numbered: RosterChange[] = history.map((item, index) => ({
            changeType: item.changeType,
            sequenceNumber: BigInt(index + 1),
            participants: item.ids.map((id) => person(id)),
          }));
          const truth = new CallRoster();
          for (const item of numbered) truth.apply(item);
          const lastFull = numbered.map((item) => item.changeType).lastIndexOf("updated");
          let before = numbered.slice(0, Math.max(0, lastFull));
          const after = numbered.slice(Math.max(0, lastFull));
          let r = 0;
          const next = (bound: number) =>
            randomness.length === 0 ? 0 : (randomness[r++ % randomness.length] ?? 0) % bound;
          // Re-deliveries (Graph repeats notifications) of older changes are stale too.
          if (duplicate && lastFull > 0) before = [...before, ...before.slice(0, next(before.length) + 1)];
          for (let i = before.length - 1; i > 0; i--) {
            const j = next(i + 1);
            [before[i], before[j]] = [before[j] as RosterChange, before[i] as RosterChange];
          }
          const delivery: RosterChange[] = [...after];
          for (const item of before) delivery.splice(next(delivery.length + 1), 0, item);
          const roster = new CallRoster();
          for (const item of delivery) roster.apply(item);
          const sorted = (list: Participant[]) => list.map((p) => p.id).sort();
          // (Without any full roster, `before` is empty: the deltas arrive in order.)
          expect(sorted(roster.participants)).toEqual(sorted(truth.participants));
          return true;
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("roster notifications parsed", () => {
  it("carries the changeType and the highest rosterSequenceNumber (Int64 as number or string)", () => {
    const batch = parseNotificationBatch({
      value: [
        {
          changeType: "deleted",
          resourceUrl: "/communications/calls/c1/participants",
          resourceData: [
            { ...person("a"), rosterSequenceNumber: "9007199254740993" },
            { ...person("b"), rosterSequenceNumber: 12 },
          ],
        },
        {
          changeType: "created",
          resourceUrl: "/communications/calls/c1/participants",
          resourceData: [person("c")],
        },
        {
          changeType: "bogus",
          resourceUrl: "/communications/calls/c1/participants",
          resourceData: [person("d")],
        },
      ],
    });
    expect(batch.events).toMatchObject([
      { kind: "roster", changeType: "deleted", sequenceNumber: 9007199254740993n },
      { kind: "roster", changeType: "created" },
    ]);
    expect(batch.events[1]).not.toHaveProperty("sequenceNumber");
    expect(batch.skipped).toMatchObject([{ index: 2, outcome: "invalid", roster: true }]);
  });

  it("keeps the meeting organizer's user id of an incoming meeting call", () => {
    const batch = parseNotificationBatch({
      value: [
        {
          changeType: "created",
          resourceUrl: "/communications/calls/c2",
          resourceData: {
            state: "incoming",
            myParticipantId: " me ",
            meetingInfo: { organizer: { user: { id: "org-1", tenantId: TENANT } } },
          },
        },
      ],
    });
    expect(batch.events[0]).toMatchObject({
      kind: "incomingCall",
      myParticipantId: "me",
      organizerId: "org-1",
    });
  });
});

describe("toRosterParticipants", () => {
  it("gives each participant its kind and role (self, organizer, attendee) and the removal reason", () => {
    const roster = toRosterParticipants(
      [
        { id: "bot", info: { identity: { application: { id: APP_ID.toUpperCase(), displayName: "Bot" } } } },
        { id: "org", info: { identity: { user: { id: "ORG-1", displayName: "Olga" } } } },
        { id: "guest", info: { identity: { guest: { id: "g1", displayName: "Gus" } } } },
        { id: "tel", info: { identity: { phone: { id: "+1555" } } }, removedState: { reason: "hungUp" } },
        { id: "me", info: { identity: {} } },
      ],
      { appId: APP_ID, organizerId: "org-1", myParticipantId: "me" },
    );
    expect(roster.map(({ id, kind, role, displayName }) => ({ id, kind, role, displayName }))).toEqual([
      // Another instance of the same bot app: not this call's own participant ("me" is).
      { id: "bot", kind: "application", role: "attendee", displayName: "Bot" },
      { id: "org", kind: "user", role: "organizer", displayName: "Olga" },
      { id: "guest", kind: "guest", role: "attendee", displayName: "Gus" },
      { id: "tel", kind: "phone", role: "attendee", displayName: undefined },
      { id: "me", kind: "unknown", role: "self", displayName: undefined },
    ]);
    expect(roster[3]?.removedReason).toBe("hungUp");
    expect(roster[0]).not.toHaveProperty("removedReason");
  });

  it("without the call's own participant id, the participant with the bot's app id is self", () => {
    const roster = toRosterParticipants(
      [
        { id: "bot", info: { identity: { application: { id: APP_ID.toUpperCase(), displayName: "Bot" } } } },
        { id: "org", info: { identity: { user: { id: "ORG-1", displayName: "Olga" } } } },
      ],
      { appId: APP_ID, organizerId: "org-1" },
    );
    expect(roster.map(({ id, role }) => ({ id, role }))).toEqual([
      { id: "bot", role: "self" },
      { id: "org", role: "organizer" },
    ]);
  });
});

describe("signaling: roster notifications of a call", () => {
  let service: SignalingService | undefined;
  afterEach(async () => {
    await service?.shutdown({ timeoutMs: 200 });
    service = undefined;
  });

  it("applies deltas in order, skips and counts a stale roster, gives the media side roles", async () => {
    const media = new RecordingMediaProvider();
    const registry = new Registry();
    service = await SignalingService.start({
      config: testConfig(),
      graph: new FakeGraph(),
      media,
      logger: silentLogger(),
      registry,
      authenticator: new FakeVerifier(),
    });
    const url = `${service.url}/api/calls`;
    const post = (value: unknown[]) =>
      fetch(url, {
        method: "POST",
        headers: { authorization: "Bearer ok", "content-type": "application/json" },
        body: JSON.stringify({ value }),
      });
    const participants = (changeType: string, resourceData: unknown[]) => ({
      changeType,
      resourceUrl: "/communications/calls/m1/participants",
      resourceData,
    });
    await post([
      {
        changeType: "created",
        resourceUrl: "/communications/calls/m1",
        resourceData: {
          state: "incoming",
          tenantId: TENANT,
          myParticipantId: "bot-p",
          meetingInfo: { organizer: { user: { id: "user-olga" } } },
        },
      },
    ]);
    await post([participants("updated", [person("bot-p", 1), person("olga", 1), person("bea", 2)])]);
    await post([participants("deleted", [person("bea", 4)])]);
    await post([participants("updated", [person("bot-p", 1), person("olga", 1), person("bea", 3)])]); // stale
    await post([participants("created", [person("cy", 5)])]);
    await post([participants("created", [{ info: {} }])]); // no participant id: invalid
    await until(() => (media.rosters.get("m1") ?? []).some((p) => p.id === "cy"), 3000, "cy joined");
    const roster = media.rosters.get("m1") ?? [];
    expect(roster.map((p) => [p.id, p.role])).toEqual([
      ["bot-p", "self"],
      ["olga", "organizer"],
      ["cy", "attendee"],
    ]);
    const metric = await registry.getSingleMetric("signaling_roster_updates_total")?.get();
    const count = (outcome: string) => metric?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
    expect([count("applied"), count("stale"), count("invalid")]).toEqual([3, 1, 1]);
  });
});
