import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CsdlModel } from "../../../src/emulator/graph/csdl/csdl-model.js";
import { CsdlValidator, formatViolations } from "../../../src/emulator/graph/csdl/csdl-validator.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const metadataPath = path.resolve(here, "../../../src/emulator/graph/metadata/calls-v1.0.csdl.xml");
const sharedPath = path.resolve(here, "../../../../shared/graph/calls-v1.0.csdl.xml");

const model = CsdlModel.fromFile(metadataPath);
const validator = new CsdlValidator(model);
const CALL = "microsoft.graph.call";

const goodAnswer = {
  callbackUri: "https://bot.contoso.com/api/calls",
  mediaConfig: { "@odata.type": "#microsoft.graph.appHostedMediaConfig", blob: "{}" },
  acceptedModalities: ["audio"],
};

describe("CSDL metadata copy", () => {
  it.skipIf(!existsSync(sharedPath))("equals shared/graph/calls-v1.0.csdl.xml", () => {
    expect(readFileSync(metadataPath, "utf8")).toBe(readFileSync(sharedPath, "utf8"));
  });

  it("parses types, inheritance, enums and bound actions", () => {
    expect(model.namespace).toBe("microsoft.graph");
    expect(model.derivesFrom("microsoft.graph.appHostedMediaConfig", "microsoft.graph.mediaConfig")).toBe(
      true,
    );
    expect(model.enumTypes.get("microsoft.graph.tone")?.members).toContain("pound");
    const answer = model.action("answer", "graph.call");
    expect(answer?.parameters.map((p) => [p.name, p.nullable])).toEqual([
      ["callbackUri", false],
      ["mediaConfig", false],
      ["acceptedModalities", true],
      ["participantCapacity", true],
      ["callOptions", true],
    ]);
    // "mute" is bound to both call and participant.
    expect(model.action("mute", "microsoft.graph.participant")).toBeDefined();
    const callType = model.structuredTypes.get(CALL);
    expect(callType).toBeDefined();
    if (callType) expect([...model.propertiesOf(callType).keys()]).toContain("id");
  });
});

describe("CsdlValidator", () => {
  it("accepts a good answer body", () => {
    expect(validator.validateActionBody("answer", CALL, goodAnswer)).toEqual([]);
    expect(
      validator.validateActionBody("answer", CALL, {
        ...goodAnswer,
        participantCapacity: 200,
        callOptions: {
          "@odata.type": "#microsoft.graph.incomingCallOptions",
          isContentSharingNotificationEnabled: true,
        },
      }),
    ).toEqual([]);
  });

  it("names the path and the problem for a wrong type", () => {
    const violations = validator.validateActionBody("answer", CALL, {
      ...goodAnswer,
      mediaConfig: { "@odata.type": "#microsoft.graph.appHostedMediaConfig", blob: 42 },
    });
    expect(violations).toEqual([{ path: "mediaConfig.blob", message: "expected Edm.String, got number 42" }]);
    expect(
      formatViolations(
        validator.validateActionBody("answer", CALL, { ...goodAnswer, participantCapacity: 1.5 }),
      ),
    ).toBe("participantCapacity: expected Edm.Int32 (an integer), got number 1.5");
  });

  it("names an unknown property or parameter", () => {
    const nested = validator.validateActionBody("answer", CALL, {
      ...goodAnswer,
      mediaConfig: { "@odata.type": "#microsoft.graph.appHostedMediaConfig", blob: "{}", blobb: "x" },
    });
    expect(nested).toHaveLength(1);
    expect(nested[0]?.path).toBe("mediaConfig.blobb");
    expect(nested[0]?.message).toMatch(/^unknown property 'blobb' on microsoft\.graph\.appHostedMediaConfig/);
    const top = validator.validateActionBody("answer", CALL, { ...goodAnswer, callbackUrl: "https://x" });
    expect(top[0]?.path).toBe("callbackUrl");
    expect(top[0]?.message).toMatch(/^unknown parameter 'callbackUrl' of action answer/);
  });

  it("names a missing required parameter and a missing required nested property", () => {
    const { callbackUri: _omit, ...noCallback } = goodAnswer;
    expect(validator.validateActionBody("answer", CALL, noCallback)).toEqual([
      {
        path: "callbackUri",
        message: "required parameter 'callbackUri' (Edm.String) of action answer is missing",
      },
    ]);
    const redirect = validator.validateActionBody("redirect", CALL, { targets: [{ hidden: false }] });
    expect(formatViolations(redirect)).toBe(
      "targets[0].identity: required property 'identity' (microsoft.graph.identitySet) of microsoft.graph.invitationParticipantInfo is missing",
    );
  });

  it("checks @odata.type against abstract and derived types", () => {
    const abstract = validator.validateActionBody("answer", CALL, {
      ...goodAnswer,
      mediaConfig: { blob: "{}" },
    });
    expect(abstract[0]?.path).toBe("mediaConfig");
    expect(abstract[0]?.message).toContain("abstract");
    expect(abstract[0]?.message).toContain("#microsoft.graph.appHostedMediaConfig");
    const unrelated = validator.validateActionBody("answer", CALL, {
      ...goodAnswer,
      mediaConfig: { "@odata.type": "#microsoft.graph.chatInfo" },
    });
    expect(unrelated[0]?.message).toBe(
      "'#microsoft.graph.chatInfo' is not microsoft.graph.mediaConfig or a type derived from it",
    );
  });

  it("checks enum members and collections", () => {
    const violations = validator.validateActionBody("answer", CALL, {
      ...goodAnswer,
      acceptedModalities: ["audio", "smell"],
    });
    expect(violations[0]?.path).toBe("acceptedModalities[1]");
    expect(violations[0]?.message).toMatch(/^'smell' is not a member of microsoft\.graph\.modality/);
    const notArray = validator.validateActionBody("answer", CALL, {
      ...goodAnswer,
      acceptedModalities: "audio",
    });
    expect(notArray[0]?.message).toMatch(/^expected a JSON array/);
    const lenient = new CsdlValidator(model, {
      extraEnumMembers: { "microsoft.graph.modality": ["screenSharing"] },
    });
    expect(
      lenient.validateActionBody("answer", CALL, { ...goodAnswer, acceptedModalities: ["screenSharing"] }),
    ).toEqual([]);
  });

  it("validates an entity for creation: key optional, other non-nullable properties required, open type", () => {
    const call = {
      "@odata.type": "#microsoft.graph.call",
      callbackUri: "https://bot/cb",
      requestedModalities: ["audio"],
      mediaConfig: { "@odata.type": "#microsoft.graph.appHostedMediaConfig", blob: "{}" },
      targets: [{ identity: { user: { id: "u1", displayName: "U" } } }],
      someFutureProperty: true,
    };
    expect(validator.validateEntity(CALL, call)).toEqual([]);
    const { callbackUri: _omit, ...noCallback } = call;
    expect(formatViolations(validator.validateEntity(CALL, noCallback))).toMatch(
      /^callbackUri: required property/,
    );
    expect(formatViolations(validator.validateEntity(CALL, { ...call, state: 3 }))).toMatch(
      /^state: expected a microsoft\.graph\.callState member name/,
    );
  });
});
