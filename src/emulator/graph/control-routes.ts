import express, { type NextFunction, type Request, type Response, type Router } from "express";
import type { Participant, ResultInfo } from "../../graph/types.js";
import type { Logger } from "../../log/logger.js";
import { booleanField, stringField, timeoutField } from "../media/control-fields.js";
import type { AppRegistration } from "./app-registry.js";
import type { PlaceIncomingCallOptions } from "./emulated-call.js";
import type { FaultSpec } from "./fault-injector.js";
import type { GraphEmulator, PostRawNotificationOptions } from "./graph-emulator.js";
import { addMeetingControlRoutes } from "./meeting-control-routes.js";
import type { NotificationTokenOverrides } from "./notification-token.js";

/** Most notifications one fault request may drop or duplicate. */
const MAX_NOTIFICATION_FAULTS = 10_000;

/** A count of notifications (0 when absent): an integer in [0, MAX_NOTIFICATION_FAULTS]. */
function countField(body: Record<string, unknown>, name: string): number {
  const value = body[name] ?? 0;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_NOTIFICATION_FAULTS)
    throw new Error(
      `${name} must be an integer in [0, ${MAX_NOTIFICATION_FAULTS}], got ${JSON.stringify(value)}`,
    );
  return value;
}

/**
 * The control API as HTTP routes under /emulator, for tools and manual runs (tests call the
 * GraphEmulator methods directly). Unauthenticated: the emulator listens on loopback.
 */
export function createControlRouter(emulator: GraphEmulator, logger: Logger): Router {
  const router = express.Router();
  router.use(express.json({ limit: "1mb", type: () => true }));

  const wrap =
    (fn: (req: Request, res: Response) => unknown) =>
    async (req: Request, res: Response, next: NextFunction) => {
      try {
        const result = await fn(req, res);
        if (!res.headersSent) res.json(result ?? {});
      } catch (error) {
        next(error);
      }
    };
  const body = (req: Request) => (req.body ?? {}) as Record<string, unknown>;

  router.get(
    "/apps",
    wrap(() => ({ value: emulator.registeredApps().map(({ secret: _s, certificate: _c, ...app }) => app) })),
  );
  router.post(
    "/apps",
    wrap((req, res) => {
      const {
        secret: _s,
        certificate: _c,
        ...app
      } = emulator.registerApp(body(req) as unknown as AppRegistration);
      res.status(201);
      return app;
    }),
  );
  router.post(
    "/calls",
    wrap((req, res) => {
      res.status(201);
      return emulator.placeIncomingCall(body(req) as PlaceIncomingCallOptions);
    }),
  );
  router.post(
    "/calls/batch",
    wrap((req, res) => {
      const { count, ratePerSecond, ...call } = body(req);
      res.status(202);
      return emulator.placeIncomingCalls({
        ...(call as PlaceIncomingCallOptions),
        count: count as number,
        ratePerSecond: ratePerSecond as number,
      });
    }),
  );
  router.get(
    "/calls",
    wrap(() => ({ value: emulator.calls() })),
  );
  router.get(
    "/calls/:id",
    wrap((req, res) => {
      const call = emulator.call(String(req.params.id));
      if (!call) res.status(404);
      return call ?? { error: { code: "NotFound", message: `no call ${req.params.id}` } };
    }),
  );
  router.post(
    "/calls/:id/end",
    wrap((req) => emulator.endCall(String(req.params.id), body(req).resultInfo as ResultInfo | undefined)),
  );
  router.post(
    "/calls/:id/tone",
    wrap((req) => emulator.sendTone(String(req.params.id), String(body(req).tone))),
  );
  router.post(
    "/prompt-files",
    wrap((req) => {
      const { uri, path } = body(req);
      if (typeof uri !== "string" || typeof path !== "string")
        throw new Error("prompt-files needs {uri, path}, both strings");
      emulator.mapPromptFile(uri, path);
    }),
  );
  router.post(
    "/calls/:id/roster",
    wrap((req) => emulator.updateRoster(String(req.params.id), body(req).participants as Participant[])),
  );
  router.post(
    "/calls/:id/wait",
    wrap(async (req) => {
      const fields = body(req);
      const state = stringField(fields, "state");
      return emulator.waitForCallState(
        String(req.params.id),
        state as never,
        timeoutField(fields, "timeoutMs", 5000),
      );
    }),
  );
  router.post(
    "/notifications",
    wrap(async (req) => {
      const { payload, ...options } = body(req);
      return emulator.postRawNotification(payload, options as PostRawNotificationOptions);
    }),
  );
  router.post(
    "/notification-token",
    wrap(async (req) => {
      const { appId, tenantId, ...overrides } = body(req);
      const subject =
        typeof appId === "string" && typeof tenantId === "string" ? { appId, tenantId } : undefined;
      return {
        token: await emulator.signNotificationToken(overrides as NotificationTokenOverrides, subject),
      };
    }),
  );
  router.post(
    "/notification-key/rotate",
    wrap(async (req) => ({
      kid: await emulator.rotateNotificationKey({ keepPrevious: body(req).keepPrevious === true }),
    })),
  );
  router.post(
    "/notification-faults",
    wrap((req) => {
      // Checked before any is applied: a bad one changes nothing.
      const fields = body(req);
      const drop = countField(fields, "drop");
      const duplicate = countField(fields, "duplicate");
      const reorderPair = booleanField(fields, "reorderPair", false);
      if (drop > 0) emulator.dropNextNotifications(drop);
      if (duplicate > 0) emulator.duplicateNextNotifications(duplicate);
      if (reorderPair) emulator.reorderNextNotificationPair();
      return {};
    }),
  );
  router.post(
    "/faults",
    wrap((req, res) => {
      res.status(201);
      return emulator.injectFault(body(req) as unknown as FaultSpec);
    }),
  );
  router.delete(
    "/faults",
    wrap(() => emulator.clearFaults()),
  );
  router.get(
    "/requests",
    wrap(() => ({ value: emulator.requestLog() })),
  );
  router.get(
    "/deliveries",
    wrap(() => ({ value: emulator.notificationDeliveries() })),
  );

  addMeetingControlRoutes(router, {
    meetings: emulator.meetings,
    callees: emulator.callees,
    createMeeting: (body) => emulator.createMeeting(body),
  });

  router.use((req, res) => {
    res
      .status(404)
      .json({ error: { code: "NotFound", message: `no control route ${req.method} ${req.path}` } });
  });
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const message = (error as Error).message ?? String(error);
    logger.info({ err: message }, "control request refused");
    res.status(400).json({ error: { code: "BadRequest", message } });
  });
  return router;
}
