import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { isGuid } from "../../config/env-readers.js";
import type { InvitationParticipantInfo } from "../../graph/types.js";
import type { Logger } from "../../log/logger.js";
import { MediaBlobError, parseMediaBlob } from "../../media/media-session-config.js";
import { type AccessTokenClaims, AccessTokenError, verifyAccessToken } from "./access-tokens.js";
import type { AppRegistry, RegisteredApp } from "./app-registry.js";
import { inviteParticipants, transferCall } from "./call-control.js";
import type { CallEngine } from "./call-engine.js";
import { type CsdlValidator, formatViolations } from "./csdl/csdl-validator.js";
import type { EmulatedCall } from "./emulated-call.js";
import { GraphRequestError, sendGraphError } from "./graph-error.js";
import type { OutgoingTarget } from "./outgoing-targets.js";
import type { ServiceMedia } from "./service-media.js";
import type { SigningKey } from "./signing-key.js";

export interface CallsRouterOptions {
  engine: CallEngine;
  /** An emulated meeting or callee the createCall body reaches (its plan), else undefined. */
  outgoingTarget?: (body: Record<string, unknown>, app: RegisteredApp) => OutgoingTarget | undefined;
  serviceMedia: ServiceMedia;
  validator: CsdlValidator;
  apps: AppRegistry;
  tokenKey: () => SigningKey;
  logger: Logger;
}

const CALL = "microsoft.graph.call";
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

interface Auth {
  claims: AccessTokenClaims;
  app: RegisteredApp;
}

/** The Graph v1.0 calls API (mounted at /v1.0), per shared/docs/graph-calling.md. */
export function createCallsRouter(options: CallsRouterOptions): Router {
  const { engine, serviceMedia, validator, logger } = options;
  const router = express.Router();

  router.use(async (req, res, next) => {
    const header = req.get("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      res.setHeader(
        "WWW-Authenticate",
        'Bearer realm="", authorization_uri="", client_id="00000003-0000-0000-c000-000000000000"',
      );
      sendGraphError(
        res,
        401,
        "InvalidAuthenticationToken",
        header ? "Access token is malformed." : "Access token is empty.",
      );
      return;
    }
    try {
      const claims = await verifyAccessToken(options.tokenKey(), match[1]);
      const app = options.apps.get(claims.appid);
      if (!app) throw new AccessTokenError(`Application ${claims.appid} is not registered.`);
      res.locals.auth = { claims, app } satisfies Auth;
      res.locals.appId = app.appId;
      next();
    } catch (error) {
      res.setHeader("WWW-Authenticate", 'Bearer error="invalid_token"');
      sendGraphError(res, 401, "InvalidAuthenticationToken", (error as Error).message);
    }
  });

  router.use(express.json({ limit: "1mb", type: () => true }));

  const handle =
    (fn: (req: Request, res: Response, auth: Auth) => void) =>
    (req: Request, res: Response, next: NextFunction) => {
      try {
        fn(req, res, res.locals.auth as Auth);
      } catch (error) {
        next(error);
      }
    };

  const callFor = (req: Request, auth: Auth): EmulatedCall => {
    const id = String(req.params.id ?? "").trim();
    const call = engine.calls.get(id);
    // Calls of other apps are invisible, as in Graph.
    if (!call || call.appId !== auth.app.appId) {
      throw new GraphRequestError(404, "NotFound", `Call ${id} was not found.`);
    }
    return call;
  };
  const liveCallFor = (req: Request, auth: Auth): EmulatedCall => {
    const call = callFor(req, auth);
    if (call.state === "terminated")
      throw new GraphRequestError(404, "NotFound", `Call ${call.id} has ended.`);
    return call;
  };
  const validateAction = (action: string, body: unknown) => {
    const violations = validator.validateActionBody(action, CALL, body);
    if (violations.length > 0) {
      throw new GraphRequestError(
        400,
        "BadRequest",
        `Invalid ${action} request body: ${formatViolations(violations)}`,
      );
    }
    return (body ?? {}) as Record<string, unknown>;
  };
  const requireState = (call: EmulatedCall, action: string, states: string[]) => {
    if (!states.includes(call.state)) {
      throw new GraphRequestError(
        409,
        "Conflict",
        `Call ${call.id} is in state ${call.state}; ${action} is only valid in state ${states.join(" or ")}.`,
      );
    }
  };

  router.post(
    "/communications/calls",
    handle((req, res, auth) => {
      const violations = validator.validateEntity(CALL, req.body ?? {});
      if (violations.length > 0) {
        throw new GraphRequestError(400, "BadRequest", `Invalid call: ${formatViolations(violations)}`);
      }
      const body = req.body as Record<string, unknown>;
      checkCallbackUri(body.callbackUri, "callbackUri");
      checkWhomToReach(body);
      if (!body.mediaConfig)
        throw new GraphRequestError(400, "BadRequest", "Invalid call: mediaConfig is required.");
      const mediaSession = checkMediaConfig(body.mediaConfig, auth.app);
      if (
        body.meetingInfo &&
        !hasRole(auth.app, ["Calls.JoinGroupCall.All", "Calls.JoinGroupCallAsGuest.All"])
      ) {
        throw new GraphRequestError(
          403,
          "Forbidden",
          "Joining a meeting needs Calls.JoinGroupCall.All or Calls.JoinGroupCallAsGuest.All.",
        );
      }
      // May refuse (an unknown meeting id, a wrong passcode) before anything is created.
      const target = options.outgoingTarget?.(body, auth.app);
      const call = engine.createOutgoing(auth.app, body, auth.claims.tid, target?.plan);
      if (mediaSession) call.mediaSession = mediaSession;
      target?.attach(call);
      res.status(201).json({
        "@odata.context": `${req.protocol}://${req.get("host")}/v1.0/$metadata#communications/calls/$entity`,
        "@odata.type": "#microsoft.graph.call",
        id: call.id,
        state: call.state,
        direction: call.direction,
        callbackUri: call.callbackUri,
        source: call.source,
        targets: call.targets,
        requestedModalities: call.requestedModalities,
        mediaConfig: body.mediaConfig,
        myParticipantId: call.myParticipantId,
        callChainId: call.callChainId,
        tenantId: call.tenantId,
        ...(call.chatInfo ? { chatInfo: call.chatInfo } : {}),
        ...(call.meetingInfo ? { meetingInfo: call.meetingInfo } : {}),
      });
    }),
  );

  router.get(
    "/communications/calls/:id",
    handle((req, res, auth) => {
      const call = callFor(req, auth);
      res.json({
        "@odata.type": "#microsoft.graph.call",
        id: call.id,
        state: call.state,
        direction: call.direction,
        callbackUri: call.callbackUri,
        source: call.source,
        targets: call.targets,
        requestedModalities: call.requestedModalities,
        myParticipantId: call.myParticipantId,
        callChainId: call.callChainId,
        tenantId: call.tenantId,
        ...(call.resultInfo ? { resultInfo: call.resultInfo } : {}),
      });
    }),
  );

  router.delete(
    "/communications/calls/:id",
    handle((req, res, auth) => {
      const call = liveCallFor(req, auth);
      if (call.state !== "terminating") engine.hangUpByBot(call);
      res.status(204).end();
    }),
  );

  router.post(
    "/communications/calls/:id/answer",
    handle((req, res, auth) => {
      const call = liveCallFor(req, auth);
      const body = validateAction("answer", req.body);
      requireState(call, "answer", ["incoming"]);
      checkCallbackUri(body.callbackUri, "callbackUri");
      const mediaSession = checkMediaConfig(body.mediaConfig, auth.app);
      checkPreFetchMedia(body.mediaConfig);
      if (
        call.meetingInfo &&
        !hasRole(auth.app, ["Calls.JoinGroupCall.All", "Calls.JoinGroupCallAsGuest.All"])
      ) {
        throw new GraphRequestError(
          403,
          "Forbidden",
          "Answering a meeting invite needs Calls.JoinGroupCall.All or Calls.JoinGroupCallAsGuest.All.",
        );
      }
      call.mediaConfig = body.mediaConfig as Record<string, unknown>;
      if (mediaSession) call.mediaSession = mediaSession;
      engine.answer(call, String(body.callbackUri), body.acceptedModalities as string[] | undefined);
      logger.info({ callId: call.id }, "call answered");
      res.status(202).end();
    }),
  );

  router.post(
    "/communications/calls/:id/reject",
    handle((req, res, auth) => {
      const call = liveCallFor(req, auth);
      const body = validateAction("reject", req.body);
      requireState(call, "reject", ["incoming"]);
      if (body.callbackUri !== undefined) checkCallbackUri(body.callbackUri, "callbackUri");
      engine.reject(call, body.callbackUri as string | undefined);
      res.status(202).end();
    }),
  );

  router.post(
    "/communications/calls/:id/redirect",
    handle((req, res, auth) => {
      const call = liveCallFor(req, auth);
      const body = validateAction("redirect", req.body);
      requireState(call, "redirect", ["incoming"]);
      const targets = body.targets as InvitationParticipantInfo[];
      if (targets.length < 1 || targets.length > 25) {
        throw new GraphRequestError(
          400,
          "BadRequest",
          `Invalid redirect request body: targets must hold 1 to 25 entries, got ${targets.length}.`,
        );
      }
      if (body.timeout !== undefined && body.timeout !== null) {
        const timeout = body.timeout as number;
        if (timeout < 15 || timeout > 90) {
          throw new GraphRequestError(
            400,
            "BadRequest",
            `Invalid redirect request body: timeout must be 15..90 seconds, got ${timeout}.`,
          );
        }
      }
      if (body.callbackUri !== undefined) checkCallbackUri(body.callbackUri, "callbackUri");
      engine.redirect(call, body.callbackUri as string | undefined);
      res.status(202).end();
    }),
  );

  router.post(
    "/communications/calls/:id/keepAlive",
    handle((req, res, auth) => {
      const call = liveCallFor(req, auth);
      validateAction("keepAlive", req.body);
      engine.keepAlive(call);
      res.status(200).end();
    }),
  );

  router.post(
    "/communications/calls/:id/updateRecordingStatus",
    handle((req, res, auth) => {
      const call = liveCallFor(req, auth);
      const body = validateAction("updateRecordingStatus", req.body);
      const clientContext = checkClientContext(body.clientContext);
      requireState(call, "updateRecordingStatus", ["establishing", "established", "hold"]);
      call.recordingStatus = String(body.status);
      res.json(
        engine.completeOperation(call, "#microsoft.graph.updateRecordingStatusOperation", clientContext),
      );
    }),
  );

  for (const action of ["mute", "unmute"] as const) {
    router.post(
      `/communications/calls/:id/${action}`,
      handle((req, res, auth) => {
        const call = liveCallFor(req, auth);
        const body = validateAction(action, req.body);
        const clientContext = checkClientContext(body.clientContext);
        requireState(call, action, ["establishing", "established", "hold"]);
        const operation = engine.completeOperation(
          call,
          action === "mute"
            ? "#microsoft.graph.muteParticipantOperation"
            : "#microsoft.graph.unmuteParticipantOperation",
          clientContext,
        );
        engine.setMuted(call, action === "mute");
        res.json(operation);
      }),
    );
  }

  router.post(
    "/communications/calls/:id/transfer",
    handle((req, res, auth) => {
      const call = liveCallFor(req, auth);
      validateAction("transfer", req.body);
      requireState(call, "transfer", ["established"]);
      transferCall(engine, call);
      res.status(202).end();
    }),
  );

  router.post(
    "/communications/calls/:id/participants/invite",
    handle((req, res, auth) => {
      const call = liveCallFor(req, auth);
      const violations = validator.validateActionBody(
        "invite",
        "Collection(microsoft.graph.participant)",
        req.body,
      );
      if (violations.length > 0) {
        throw new GraphRequestError(
          400,
          "BadRequest",
          `Invalid invite request body: ${formatViolations(violations)}`,
        );
      }
      const body = req.body as { participants: InvitationParticipantInfo[]; clientContext?: unknown };
      const clientContext = checkClientContext(body.clientContext);
      if (body.participants.length === 0) {
        throw new GraphRequestError(400, "BadRequest", "Invalid invite request body: participants is empty.");
      }
      requireState(call, "invite", ["established"]);
      res.json(inviteParticipants(engine, call, body.participants, clientContext));
    }),
  );

  // The IVR actions, valid only in an established call with service-hosted media: the body is
  // checked against the CSDL first, then the call, then the clientContext.
  const serviceHostedAction = (req: Request, auth: Auth, action: string) => {
    const body = validateAction(action, req.body);
    const call = liveCallFor(req, auth);
    if (!isServiceHosted(call.mediaConfig)) {
      throw new GraphRequestError(
        400,
        "BadRequest",
        `${action} is only valid in a call answered or created with serviceHostedMediaConfig.`,
      );
    }
    requireState(call, action, ["established"]);
    const clientContext = checkClientContext(body.clientContext);
    return { body, call, clientContext };
  };

  router.post(
    "/communications/calls/:id/playPrompt",
    handle((req, res, auth) => {
      const { body, call, clientContext } = serviceHostedAction(req, auth, "playPrompt");
      const uris = promptUris("playPrompt", body.prompts, 1);
      res.json(serviceMedia.playPrompt(call, uris, clientContext));
    }),
  );

  router.post(
    "/communications/calls/:id/recordResponse",
    handle((req, res, auth) => {
      const { body, call, clientContext } = serviceHostedAction(req, auth, "recordResponse");
      const uris = promptUris("recordResponse", body.prompts ?? [], 0);
      const maxSeconds = body.maxRecordDurationInSeconds as number | null | undefined;
      if (maxSeconds !== undefined && maxSeconds !== null && (maxSeconds < 1 || maxSeconds > 120)) {
        throw new GraphRequestError(
          400,
          "BadRequest",
          `Invalid recordResponse request body: maxRecordDurationInSeconds must be 1..120, got ${maxSeconds}.`,
        );
      }
      const stopTones = (body.stopTones as string[] | null | undefined) ?? [];
      res.json(serviceMedia.recordResponse(call, uris, maxSeconds ?? undefined, stopTones, clientContext));
    }),
  );

  router.post(
    "/communications/calls/:id/subscribeToTone",
    handle((req, res, auth) => {
      const { call, clientContext } = serviceHostedAction(req, auth, "subscribeToTone");
      // Completes at once; toneInfo notifications follow the caller's keys.
      res.json(engine.completeOperation(call, "#microsoft.graph.subscribeToToneOperation", clientContext));
    }),
  );

  router.post(
    "/communications/calls/:id/cancelMediaProcessing",
    handle((req, res, auth) => {
      const { call, clientContext } = serviceHostedAction(req, auth, "cancelMediaProcessing");
      const cancelled = serviceMedia.cancelAll(call);
      logger.info({ callId: call.id, cancelled }, "media processing cancelled");
      res.json(
        engine.completeOperation(call, "#microsoft.graph.cancelMediaProcessingOperation", clientContext),
      );
    }),
  );

  router.get(
    "/communications/calls/:id/participants",
    handle((req, res, auth) => {
      const call = liveCallFor(req, auth);
      res.json({
        "@odata.context": `${req.protocol}://${req.get("host")}/v1.0/$metadata#communications/calls('${call.id}')/participants`,
        value: call.participants.map((p) => ({
          "@odata.type": "#microsoft.graph.participant",
          ...p,
        })),
      });
    }),
  );

  router.use((req, res) => {
    sendGraphError(
      res,
      400,
      "BadRequest",
      `Resource not found for the segment '${req.path.split("/").filter(Boolean).at(-1) ?? ""}' (${req.method} ${req.path} is not emulated).`,
    );
  });

  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof GraphRequestError) {
      sendGraphError(res, error.status, error.code, error.message);
      return;
    }
    const parseError = error as { type?: string; status?: number; message?: string };
    if (parseError.type === "entity.parse.failed") {
      sendGraphError(res, 400, "BadRequest", `Invalid JSON in the request body: ${parseError.message}`);
      return;
    }
    if (parseError.type === "entity.too.large") {
      sendGraphError(res, 413, "RequestEntityTooLarge", "The request body is too large.");
      return;
    }
    logger.error({ err: error }, "calls API failed");
    sendGraphError(res, 500, "InternalServerError", "An internal server error occurred.");
  });

  return router;
}

function hasRole(app: RegisteredApp, roles: string[]): boolean {
  return roles.some((role) => app.roles.includes(role));
}

/** https, or plain http to a loopback host (a bot under test). */
function checkCallbackUri(value: unknown, name: string): void {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new GraphRequestError(
      400,
      "BadRequest",
      `${name} must be an absolute URL, got ${JSON.stringify(value)}.`,
    );
  }
  if (url.protocol === "https:") return;
  if (url.protocol === "http:" && LOOPBACK.has(url.hostname)) return;
  throw new GraphRequestError(
    400,
    "BadRequest",
    `${name} must be an https URL, got ${JSON.stringify(value)}.`,
  );
}

function checkClientContext(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = String(value);
  if (text.length > 256) {
    throw new GraphRequestError(
      400,
      "BadRequest",
      `clientContext must be at most 256 characters, got ${text.length}.`,
    );
  }
  return text;
}

/** appHostedMediaConfig: the blob must parse, and the app needs Calls.AccessMedia.All. */
function checkMediaConfig(value: unknown, app: RegisteredApp) {
  const config = value as Record<string, unknown>;
  const type = String(config["@odata.type"] ?? "").replace(/^#/, "");
  if (type !== "microsoft.graph.appHostedMediaConfig" && type !== "graph.appHostedMediaConfig")
    return undefined;
  if (!hasRole(app, ["Calls.AccessMedia.All"])) {
    throw new GraphRequestError(
      403,
      "Forbidden",
      "App-hosted media needs the Calls.AccessMedia.All application permission.",
    );
  }
  if (typeof config.blob !== "string") {
    throw new GraphRequestError(400, "BadRequest", "mediaConfig.blob is required for appHostedMediaConfig.");
  }
  try {
    return parseMediaBlob(config.blob);
  } catch (error) {
    if (error instanceof MediaBlobError) {
      throw new GraphRequestError(400, "BadRequest", `mediaConfig.blob: ${error.message}`);
    }
    throw error;
  }
}

const ORGANIZER_MEETING_INFO = "#microsoft.graph.organizerMeetingInfo";

/**
 * A call reaches targets or joins the meeting meetingInfo names. Per Graph's meetingInfo docs,
 * joinMeetingIdMeetingInfo and tokenMeetingInfo name a meeting by themselves; organizerMeetingInfo
 * only together with chatInfo (the meeting's thread).
 */
function checkWhomToReach(body: Record<string, unknown>): void {
  const hasTargets = Array.isArray(body.targets) && body.targets.length > 0;
  const meetingInfo = body.meetingInfo as Record<string, unknown> | null | undefined;
  if (!hasTargets && !meetingInfo) {
    throw new GraphRequestError(
      400,
      "BadRequest",
      "Invalid call: targets or meetingInfo is required (targets to call someone, meetingInfo to join a meeting).",
    );
  }
  const chatInfo = body.chatInfo as Record<string, unknown> | null | undefined;
  if (meetingInfo?.["@odata.type"] === ORGANIZER_MEETING_INFO && !chatInfo) {
    throw new GraphRequestError(
      400,
      "BadRequest",
      "Invalid call: chatInfo is required with organizerMeetingInfo (the meeting's threadId and messageId).",
    );
  }
  // The thread is what names the meeting; chatInfo's members are nullable in the metadata only.
  if (chatInfo && (typeof chatInfo.threadId !== "string" || chatInfo.threadId.trim() === "")) {
    throw new GraphRequestError(400, "BadRequest", "Invalid call: chatInfo.threadId is required.");
  }
}

const SERVICE_HOSTED = new Set([
  "microsoft.graph.serviceHostedMediaConfig",
  "graph.serviceHostedMediaConfig",
]);
/** The emulator's bound on prefetched files and on one request's prompts. */
const MAX_MEDIA_ITEMS = 20;

function isServiceHosted(config: unknown): boolean {
  const type = (config as Record<string, unknown> | undefined)?.["@odata.type"];
  return typeof type === "string" && SERVICE_HOSTED.has(type.replace(/^#/, ""));
}

/** A mediaInfo (already shaped per the CSDL): https uri, resourceId a GUID when given. */
function checkMediaInfo(value: unknown, name: string, resourceIdRequired: boolean): string {
  const info = value as { uri?: unknown; resourceId?: unknown };
  let url: URL | undefined;
  try {
    url = new URL(String(info.uri));
  } catch {
    url = undefined;
  }
  if (url?.protocol !== "https:") {
    throw new GraphRequestError(
      400,
      "BadRequest",
      `${name}.uri must be an https URL, got ${JSON.stringify(info.uri)}.`,
    );
  }
  const id = info.resourceId;
  if ((id === undefined || id === null) && !resourceIdRequired) return String(info.uri);
  if (typeof id !== "string" || !isGuid(id)) {
    throw new GraphRequestError(
      400,
      "BadRequest",
      `${name}.resourceId must be a GUID, got ${JSON.stringify(id)}.`,
    );
  }
  return String(info.uri);
}

/** serviceHostedMediaConfig.preFetchMedia: at most MAX_MEDIA_ITEMS https files with GUID ids. */
function checkPreFetchMedia(config: unknown): void {
  if (!isServiceHosted(config)) return;
  const media = (config as { preFetchMedia?: unknown[] | null }).preFetchMedia ?? [];
  if (media.length > MAX_MEDIA_ITEMS) {
    throw new GraphRequestError(
      400,
      "BadRequest",
      `mediaConfig.preFetchMedia holds ${media.length} entries; at most ${MAX_MEDIA_ITEMS} are accepted.`,
    );
  }
  media.forEach((item, index) => {
    checkMediaInfo(item, `mediaConfig.preFetchMedia[${index}]`, true);
  });
}

/** The prompts' uris (Collection(graph.prompt), already shaped per the CSDL). */
function promptUris(action: string, value: unknown, min: number): string[] {
  const prompts = (value as unknown[] | null) ?? [];
  if (prompts.length < min || prompts.length > MAX_MEDIA_ITEMS) {
    throw new GraphRequestError(
      400,
      "BadRequest",
      `Invalid ${action} request body: prompts must hold ${min} to ${MAX_MEDIA_ITEMS} entries, got ${prompts.length}.`,
    );
  }
  return prompts.map((prompt, index) => {
    const mediaPrompt = prompt as { "@odata.type"?: unknown; mediaInfo?: unknown };
    if (String(mediaPrompt["@odata.type"] ?? "").replace(/^#/, "") !== "microsoft.graph.mediaPrompt") {
      throw new GraphRequestError(
        400,
        "BadRequest",
        `Invalid ${action} request body: prompts[${index}] must be a #microsoft.graph.mediaPrompt.`,
      );
    }
    return checkMediaInfo(mediaPrompt.mediaInfo, `prompts[${index}].mediaInfo`, false);
  });
}
