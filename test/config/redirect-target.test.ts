import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, readRawConfig } from "../../src/config/config.js";
import { VALID_BOT_ENV } from "./valid-env.js";

const USER = "8e0f1d7b-0000-4000-8000-000000000001";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const load = (value: string) => loadConfig({ ...VALID_BOT_ENV, BOT_REDIRECT_WHEN_BUSY: value });

describe("BOT_REDIRECT_WHEN_BUSY", () => {
  it("is absent by default and read as {userId, tenantId, displayName?, timeoutSeconds?}", () => {
    expect(loadConfig(VALID_BOT_ENV).redirectWhenBusy).toBeUndefined();
    expect(
      load(JSON.stringify({ userId: USER, tenantId: TENANT, displayName: "Desk", timeoutSeconds: 30 }))
        .redirectWhenBusy,
    ).toEqual({ userId: USER, tenantId: TENANT, displayName: "Desk", timeoutSeconds: 30 });
  });

  it("may be a JSON object in BOT_CONFIG_FILE, as the JSON-valued handler options may", () => {
    const file = join(mkdtempSync(join(tmpdir(), "bot-config-")), "bot.json");
    writeFileSync(file, JSON.stringify({ BOT_REDIRECT_WHEN_BUSY: { userId: USER, tenantId: TENANT } }));
    expect(
      loadConfig({ ...VALID_BOT_ENV, ...readRawConfig({ BOT_CONFIG_FILE: file }) }).redirectWhenBusy,
    ).toEqual({
      userId: USER,
      tenantId: TENANT,
    });
  });

  it("refuses what Graph could not take, naming the problem", () => {
    expect(() => load("{userId")).toThrow(/BOT_REDIRECT_WHEN_BUSY: must be JSON/);
    expect(() => load("[]")).toThrow(/must be a JSON object/);
    expect(() => load(JSON.stringify({ userId: "bob", tenantId: TENANT }))).toThrow(/userId must be a GUID/);
    expect(() => load(JSON.stringify({ userId: USER }))).toThrow(/tenantId must be a GUID/);
    expect(() => load(JSON.stringify({ userId: USER, tenantId: TENANT, phone: "+1" }))).toThrow(
      /unknown key "phone"/,
    );
    expect(() => load(JSON.stringify({ userId: USER, tenantId: TENANT, timeoutSeconds: 10 }))).toThrow(
      /timeoutSeconds must be an integer 15\.\.90/,
    );
  });
});
