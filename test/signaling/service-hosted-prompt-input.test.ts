/**
 * A service-hosted handler's prompt that is not an object (null, a string), or recordResponse
 * options that are not an object, are refused before any request with a ServiceHostedInputError
 * naming them, like other bad input (they were TypeErrors from reading a property of null).
 */
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { GraphServiceMediaApi } from "../../src/graph/graph-calls-api.js";
import { silentLogger } from "../../src/log/logger.js";
import type { PromptSpec, ServiceHostedCall } from "../../src/signaling/service-hosted-api.js";
import { ServiceHostedCalls, ServiceHostedInputError } from "../../src/signaling/service-hosted-calls.js";

describe("service-hosted playPrompt input", () => {
  it("refuses a prompt or recordResponse options that are not an object, before any request", async () => {
    const requests: string[] = [];
    // Any Graph method reached would be a failure: record it.
    const graph = new Proxy({} as GraphServiceMediaApi, {
      get: (_target, name) => () => {
        requests.push(String(name));
        return Promise.reject(new Error("no request expected"));
      },
    });
    let call: ServiceHostedCall | undefined;
    const registry = new Registry();
    const calls = new ServiceHostedCalls({
      handler: {
        name: "test",
        options: undefined,
        definition: {
          create: (created) => {
            call = created;
            return {};
          },
        },
      },
      graph,
      logger: silentLogger(),
      registry,
      hangUp: async () => true,
    });
    expect(await calls.choose({ callId: "c1", isMeeting: false })).toBe(true);
    await Promise.resolve();
    expect(call).toBeDefined();
    for (const bad of [null, "https://cdn.contoso.com/a.wav"]) {
      const refused = await (call as ServiceHostedCall)
        .playPrompt([bad as unknown as PromptSpec])
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ServiceHostedInputError);
      expect((refused as Error).message).toMatch(
        /^playPrompt: prompts\[0\] must be \{uri\} or \{resourceId\}/,
      );
    }
    const noOptions = await (call as ServiceHostedCall)
      .recordResponse(null as unknown as undefined)
      .catch((error: unknown) => error);
    expect(noOptions).toBeInstanceOf(ServiceHostedInputError);
    expect((noOptions as Error).message).toBe("recordResponse: options must be an object");
    expect(requests).toEqual([]);
    const refusedCount = (
      await registry.getSingleMetric("signaling_service_hosted_operations_total")?.get()
    )?.values.find((v) => v.labels.action === "playPrompt" && v.labels.status === "refused")?.value;
    expect(refusedCount).toBe(2);
  });
});
