/**
 * The call-control bodies (mute/unmute, transfer, invite) built by request-bodies.ts: valid
 * against Microsoft's v1.0 metadata (the action's own parameters), wrong input refused naming
 * the field before anything is sent.
 */
import { describe, expect, it } from "vitest";
import { CsdlModel } from "../../src/emulator/graph/csdl/csdl-model.js";
import { CsdlValidator, formatViolations } from "../../src/emulator/graph/csdl/csdl-validator.js";
import { METADATA_PATH } from "../../src/emulator/graph/graph-emulator.js";
import {
  clientContextBody,
  inviteBody,
  MAX_INVITED_PARTICIPANTS,
  transferBody,
} from "../../src/graph/request-bodies.js";
import type { InvitationParticipantInfo, TransferRequest } from "../../src/graph/types.js";
import { refused } from "./helpers.js";

const validator = new CsdlValidator(CsdlModel.fromFile(METADATA_PATH));
const valid = (action: string, binding: string, body: unknown) =>
  expect(formatViolations(validator.validateActionBody(action, binding, body))).toBe("");

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const ADA: InvitationParticipantInfo = {
  "@odata.type": "#microsoft.graph.invitationParticipantInfo",
  identity: { user: { id: "8e0f1d7b-0000-4000-8000-000000000001", displayName: "Ada", tenantId: TENANT } },
};

describe("call-control bodies", () => {
  it("mute/unmute carry only clientContext", () => {
    valid("mute", "microsoft.graph.call", clientContextBody("c-1"));
    valid("unmute", "microsoft.graph.call", clientContextBody(undefined));
    expect(refused(() => clientContextBody("x".repeat(257)))).toMatch(/clientContext must be at most 256/);
  });

  it("transfer: transferTarget (invitationParticipantInfo) and an optional transferee (participantInfo)", () => {
    const body = transferBody({
      transferTarget: { ...ADA, replacesCallId: "call-2" },
      transferee: { identity: { user: { id: "u-2" } }, participantId: "p-2" },
    });
    valid("transfer", "microsoft.graph.call", body);
    expect(body).toEqual({
      transferTarget: { ...ADA, replacesCallId: "call-2" },
      transferee: { identity: { user: { id: "u-2" } }, participantId: "p-2" },
    });
    expect(refused(() => transferBody({} as TransferRequest))).toMatch(/^transferTarget must be/);
    expect(refused(() => transferBody({ transferTarget: { identity: {} } }))).toMatch(
      /transferTarget\.identity must name at least one identity/,
    );
    expect(
      refused(() => transferBody({ transferTarget: { ...ADA, hidden: "yes" } as InvitationParticipantInfo })),
    ).toMatch(/transferTarget\.hidden must be a boolean/);
    expect(
      refused(() =>
        transferBody({ transferTarget: ADA, transferee: { identity: { user: { id: "u" } }, mood: "x" } }),
      ),
    ).toMatch(/transferee\.mood is not a participantInfo property/);
  });

  it("invite: 1..MAX participants and clientContext, valid for the action bound to the participants", () => {
    const body = inviteBody([ADA], "inv");
    valid("invite", "Collection(microsoft.graph.participant)", body);
    expect(body).toEqual({ participants: [ADA], clientContext: "inv" });
    expect(refused(() => inviteBody([], undefined))).toMatch(/^participants must be an array of 1\.\./);
    expect(refused(() => inviteBody(Array(MAX_INVITED_PARTICIPANTS + 1).fill(ADA), undefined))).toMatch(
      /participants must be/,
    );
    expect(refused(() => inviteBody([{ identity: { user: "ada" } } as never], undefined))).toMatch(
      /participants\[0\]\.identity\.user must be an identity object/,
    );
  });
});
