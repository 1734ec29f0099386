import { rm } from "node:fs/promises";
import https from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import express, { type Express } from "express";
import type { Participant, ResultInfo } from "../../graph/types.js";
import { createLogger, type Logger } from "../../log/logger.js";
import { type AppRegistration, AppRegistry, type RegisteredApp } from "./app-registry.js";
import { CallEngine, type CallTimings } from "./call-engine.js";
import { CallSchedule } from "./call-schedule.js";
import { Callees } from "./callees.js";
import { createCallsRouter } from "./calls-routes.js";
import { createControlRouter } from "./control-routes.js";
import { CsdlModel } from "./csdl/csdl-model.js";
import { CsdlValidator, formatViolations } from "./csdl/csdl-validator.js";
import type { EmulatedCall, PlaceIncomingCallOptions } from "./emulated-call.js";
import { type ActiveFault, FaultInjector, type FaultSpec } from "./fault-injector.js";
import { requestIds } from "./graph-error.js";
import { parseMeetingSpec } from "./meeting-spec.js";
import { Meetings, meetingAddress } from "./meetings.js";
import { type NotificationDelivery, NotificationSender } from "./notification-sender.js";
import {
  NOTIFICATION_ISSUER,
  type NotificationTokenOverrides,
  type NotificationTokenSubject,
  signNotificationToken,
} from "./notification-token.js";
import { resolveOutgoingTarget } from "./outgoing-targets.js";
import type { SpeakerSink } from "./participant-audio.js";
import { type LoggedRequest, RequestLog } from "./request-log.js";
import { SourceIds } from "./roster-entries.js";
import { ServiceMedia } from "./service-media.js";
import { createSigningKey, type SigningKey } from "./signing-key.js";
import { createTlsCertificate } from "./tls-certificate.js";
import { createTokenRouter } from "./token-service.js";
import { Waiters } from "./waiters.js";

export const METADATA_PATH = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "metadata",
  "calls-v1.0.csdl.xml",
);

export interface GraphEmulatorOptions {
  /** Listen address; 127.0.0.1 by default. */
  host?: string;
  /** 0 (an ephemeral port) by default. */
  port?: number;
  /** Access token lifetime (expires_in), 3599 s by default. */
  tokenLifetimeSeconds?: number;
  /** Folder for the CA certificate file; by default a fresh temp folder, removed by close(). */
  certDirectory?: string;
  /** Apps registered at start. */
  apps?: AppRegistration[];
  /** Call timings; defaults: answer deadline 15 s, keepAlive 45 min, media timeout 10 s. */
  timings?: Partial<CallTimings>;
  /** Decides whether an answered/created call gets established (e.g. once media connected). */
  establishWhen?: (call: EmulatedCall) => Promise<boolean>;
  /**
   * Where emulated meeting participants' and callees' audio goes: the media emulator session of
   * the bot's call (see participant-audio.ts). Without it, rosters carry source ids but no audio.
   */
  speakers?: SpeakerSink;
  /** Timeout of one notification POST to the bot (10 s). */
  notificationTimeoutMs?: number;
  /** Extra CA trusted for https callback URLs (a bot with a self-signed certificate). */
  callbackCaPem?: string;
  /** Logs (pino); pass silentLogger() in tests. */
  logger?: Logger;
}

/** How long a plain notification token is reused (tokens are valid for an hour). */
const NOTIFICATION_TOKEN_REUSE_MS = 5 * 60_000;
/** Bounds of placeIncomingCalls: a load generator, not a way to exhaust the emulator's memory. */
const MAX_SCHEDULED_CALLS = 100_000;
const MAX_CALL_RATE = 10_000;

export const DEFAULT_TIMINGS: CallTimings = {
  answerDeadlineMs: 15_000,
  establishingDelayMs: 20,
  establishedDelayMs: 50,
  mediaTimeoutMs: 10_000,
  keepAliveTimeoutMs: 45 * 60_000,
  terminatingDelayMs: 20,
};

export interface PostRawNotificationOptions {
  /** Whose app the token is for; default: the call's app, else the first registered app. */
  appId?: string;
  tenantId?: string;
  /** Target URL; default: the call's current callbackUri, else the app's callbackUrl. */
  url?: string;
  /** Deliver in order with this call's other notifications. */
  callId?: string;
  /** Forge the token (see signNotificationToken). */
  tokenOverrides?: NotificationTokenOverrides;
  /** Use this exact Authorization bearer value (e.g. "garbage"). */
  token?: string;
  /** Extra or replaced headers; null removes a default header (e.g. authorization). */
  headers?: Record<string, string | null>;
}

/**
 * A local Microsoft Graph calling emulator: Azure AD token endpoint, the v1.0 calls API, and the
 * calling service that drives calls and posts signed notifications to the bot. See
 * docs/graph-emulator.md.
 */
export class GraphEmulator {
  readonly url: string;
  readonly graphUrl: string;
  readonly notificationOpenIdUrl: string;
  /** PEM of the self-signed server certificate; clients trust it as an extra CA. */
  readonly caCertPem: string;
  readonly caCertPath: string;
  tokenLifetimeSeconds: number;
  /** Live call timings: tests may change them between calls. */
  readonly timings: CallTimings;
  readonly validator: CsdlValidator;

  private readonly apps = new AppRegistry();
  private readonly waiters = new Waiters();
  private readonly faults = new FaultInjector();
  private readonly log: RequestLog;
  private readonly sender: NotificationSender;
  private readonly engine: CallEngine;
  private readonly serviceMedia: ServiceMedia;
  /** Emulated meetings (POST /emulator/meetings) and callees (POST /emulator/users). */
  readonly meetings: Meetings;
  readonly callees: Callees;
  private speakerSink: SpeakerSink | undefined;
  private notificationKeys: SigningKey[];
  private unknownKey: Promise<SigningKey> | undefined;
  private readonly tokenCache = new Map<string, { token: Promise<string>; until: number }>();
  private establishWhen: ((call: EmulatedCall) => Promise<boolean>) | undefined;
  /** Call schedules still placing calls (stopped on close). */
  private readonly schedules = new Set<CallSchedule>();
  /** The temp folder start() made for the certificate, removed on close (none when given one). */
  private readonly ownCertDirectory: string | undefined;

  private constructor(
    private readonly server: https.Server,
    readonly app: Express,
    url: string,
    certificate: { certPem: string; certPath: string },
    private readonly tokenKey: SigningKey,
    notificationKey: SigningKey,
    private readonly logger: Logger,
    options: GraphEmulatorOptions,
  ) {
    this.url = url;
    this.graphUrl = `${url}/v1.0`;
    this.notificationOpenIdUrl = `${url}/v1/.well-known/OpenIdConfiguration`;
    this.caCertPem = certificate.certPem;
    this.caCertPath = certificate.certPath;
    this.ownCertDirectory =
      options.certDirectory === undefined ? path.dirname(certificate.certPath) : undefined;
    this.tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 3599;
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.notificationKeys = [notificationKey];
    this.establishWhen = options.establishWhen;
    this.validator = new CsdlValidator(CsdlModel.fromFile(METADATA_PATH), {
      // Values Graph's prose docs name beyond the metadata (accepted on input).
      extraEnumMembers: { "microsoft.graph.modality": ["unknown", "screenSharing"] },
    });
    this.log = new RequestLog(() => this.waiters.changed());
    this.sender = new NotificationSender({
      timeoutMs: options.notificationTimeoutMs ?? 10_000,
      ...(options.callbackCaPem ? { callbackCa: options.callbackCaPem } : {}),
      logger,
      onDelivery: () => this.waiters.changed(),
    });
    this.engine = new CallEngine({
      timings: this.timings,
      establishWhen: (call) => (this.establishWhen ? this.establishWhen(call) : Promise.resolve(true)),
      sender: this.sender,
      notificationToken: (subject, overrides) => this.signNotificationToken(overrides, subject),
      app: (appId) => this.apps.get(appId),
      waiters: this.waiters,
      logger,
    });
    this.serviceMedia = new ServiceMedia(this.engine, logger);
    this.speakerSink = options.speakers;
    const sourceIds = new SourceIds();
    this.meetings = new Meetings({
      engine: this.engine,
      sourceIds,
      speakers: () => this.speakerSink,
      changed: () => this.waiters.changed(),
      logger,
    });
    this.callees = new Callees({ engine: this.engine, sourceIds, speakers: () => this.speakerSink, logger });
  }

  static async start(options: GraphEmulatorOptions = {}): Promise<GraphEmulator> {
    const logger = options.logger ?? createLogger({ name: "graph-emulator" });
    const [certificate, tokenKey, notificationKey] = await Promise.all([
      createTlsCertificate(options.certDirectory),
      createSigningKey(),
      createSigningKey(),
    ]);
    const app = express();
    app.disable("x-powered-by");
    app.set("etag", false);
    const server = https.createServer({ cert: certificate.certPem, key: certificate.keyPem }, app);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    const emulator = new GraphEmulator(
      server,
      app,
      `https://${host}:${address.port}`,
      certificate,
      tokenKey,
      notificationKey,
      logger,
      options,
    );
    emulator.mountRoutes();
    for (const registration of options.apps ?? []) emulator.registerApp(registration);
    logger.info({ url: emulator.url }, "graph emulator listening");
    return emulator;
  }

  authorityUrl(tenantId: string): string {
    return `${this.url}/${tenantId}`;
  }

  registerApp(registration: AppRegistration): RegisteredApp {
    return this.apps.register(registration);
  }

  registeredApps(): RegisteredApp[] {
    return this.apps.all();
  }

  /** Replaces the hook that decides whether answered calls get established. */
  setEstablishWhen(hook: ((call: EmulatedCall) => Promise<boolean>) | undefined): void {
    this.establishWhen = hook;
  }

  /** Replaces where meeting participants' and callees' audio goes (see GraphEmulatorOptions.speakers). */
  setSpeakerSink(sink: SpeakerSink | undefined): void {
    this.speakerSink = sink;
  }

  /**
   * Creates an emulated meeting from a body as POST /emulator/meetings takes it (checked: an
   * Error names a wrong field); its tenant defaults to the first registered app's.
   */
  createMeeting(body: unknown = {}): ReturnType<typeof meetingAddress> {
    const spec = parseMeetingSpec(body, () => this.appToCall(undefined).tenantId);
    return meetingAddress(this.meetings.create(spec));
  }

  // ---- driving calls ----

  /** Rings the bot: a `created` notification with state incoming. */
  placeIncomingCall(options: PlaceIncomingCallOptions = {}): { callId: string } {
    return { callId: this.engine.placeIncomingCall(this.appToCall(options.appId), options).id };
  }

  /**
   * Rings the bot `count` times at `ratePerSecond` from the emulator's own timer (see
   * CallSchedule); returns at once. A call that cannot be placed is logged and counted.
   */
  placeIncomingCalls(options: PlaceIncomingCallOptions & { count: number; ratePerSecond: number }): {
    count: number;
    ratePerSecond: number;
  } {
    const { count, ratePerSecond, ...call } = options;
    if (!Number.isInteger(count) || count < 1 || count > MAX_SCHEDULED_CALLS)
      throw new Error(`count must be an integer from 1 to ${MAX_SCHEDULED_CALLS}`);
    if (typeof ratePerSecond !== "number" || !(ratePerSecond > 0 && ratePerSecond <= MAX_CALL_RATE))
      throw new Error(`ratePerSecond must be a number above 0 and at most ${MAX_CALL_RATE}`);
    // Checked now, so a missing app is this request's error rather than count logged failures.
    this.appToCall(call.appId);
    const schedule: CallSchedule = new CallSchedule(
      count,
      ratePerSecond,
      () => this.placeIncomingCall(call),
      (error) => this.logger.warn({ err: error }, "scheduled call not placed"),
      () => this.schedules.delete(schedule),
    );
    this.schedules.add(schedule);
    schedule.start();
    return { count, ratePerSecond };
  }

  /** The other side hangs up (default 200/5001), or the service ends the call with resultInfo. */
  endCall(callId: string, resultInfo?: ResultInfo): void {
    this.engine.endCall(this.liveCall(callId), resultInfo);
  }

  /** A DTMF tone from the caller: an `updated` notification with toneInfo. */
  sendTone(callId: string, tone: string): void {
    const violations = this.validator.validateValue(tone, "microsoft.graph.tone", false, "tone");
    if (violations.length > 0) throw new Error(formatViolations(violations));
    const call = this.liveCall(callId);
    this.engine.sendTone(call, tone);
    this.serviceMedia.onTone(call, tone);
  }

  /**
   * Says which local 16 kHz mono WAV stands for a prompt's https uri: a playPrompt of that uri
   * then takes the file's duration (unmapped uris take DEFAULT_PROMPT_DURATION_MS).
   */
  mapPromptFile(uri: string, filePath: string): void {
    this.serviceMedia.mapPromptFile(uri, filePath);
  }

  /** Replaces the roster and posts it (`updated` on .../participants, resourceData an array). */
  updateRoster(callId: string, participants: Participant[]): void {
    const violations = this.validator.validateValue(
      participants,
      "microsoft.graph.participant",
      true,
      "participants",
    );
    if (violations.length > 0) throw new Error(formatViolations(violations));
    this.engine.updateRoster(this.liveCall(callId), participants);
  }

  /** Posts any payload to the bot, with a real, forged or given token; resolves with the delivery. */
  async postRawNotification(
    payload: unknown,
    options: PostRawNotificationOptions = {},
  ): Promise<NotificationDelivery> {
    const call = options.callId ? this.engine.calls.get(options.callId) : undefined;
    const app = this.apps.get(options.appId ?? call?.appId ?? "") ?? this.apps.first();
    if (!app) throw new Error("no app is registered");
    const url = options.url ?? call?.callbackUri ?? app.callbackUrl;
    const subject = { appId: app.appId, tenantId: options.tenantId ?? call?.tenantId ?? app.tenantId };
    const token = options.token;
    await this.sender.send({
      url,
      ...(call ? { callId: call.id, callChainId: call.callChainId, scenarioId: call.scenarioId } : {}),
      body: payload,
      token:
        token === undefined
          ? () => this.signNotificationToken(options.tokenOverrides, subject)
          : async () => token,
      ...(options.headers ? { headers: options.headers } : {}),
    });
    const delivery = this.sender.deliveries.findLast((d) => d.body === payload);
    if (!delivery) throw new Error("the notification was not delivered");
    return delivery;
  }

  // ---- faults ----

  /** Answers the next matching requests with an error (and/or a delay). */
  injectFault(spec: FaultSpec): ActiveFault {
    return this.faults.inject(spec);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** The next `count` notifications are not posted (recorded with fault "dropped"). */
  dropNextNotifications(count = 1): void {
    this.sender.dropNext(count);
  }

  /** The next `count` notifications are posted twice (same message id). */
  duplicateNextNotifications(count = 1): void {
    this.sender.duplicateNext(count);
  }

  /** The next notification is held and posted after the one that follows it. */
  reorderNextNotificationPair(): void {
    this.sender.reorderNextPair();
  }

  // ---- inspection ----

  /** Every request made to the emulator (except /emulator control routes), oldest first. */
  requestLog(): LoggedRequest[] {
    return [...this.log.entries];
  }

  /** Every notification post (and dropped one), with the bot's status and latency. */
  notificationDeliveries(): NotificationDelivery[] {
    return [...this.sender.deliveries];
  }

  calls(): EmulatedCall[] {
    return [...this.engine.calls.values()];
  }

  call(callId: string): EmulatedCall | undefined {
    return this.engine.calls.get(callId);
  }

  waitForRequest(predicate: (request: LoggedRequest) => boolean, timeoutMs = 5000): Promise<LoggedRequest> {
    return this.waiters.until(() => this.log.entries.find(predicate), timeoutMs, "a matching request");
  }

  waitForDelivery(
    predicate: (delivery: NotificationDelivery) => boolean,
    timeoutMs = 5000,
  ): Promise<NotificationDelivery> {
    return this.waiters.until(
      () => this.sender.deliveries.find(predicate),
      timeoutMs,
      "a matching notification delivery",
    );
  }

  /** Resolves once the call has been in `state` (now or earlier). */
  waitForCallState(callId: string, state: EmulatedCall["state"], timeoutMs = 5000): Promise<EmulatedCall> {
    return this.waiters.until(
      () => {
        const call = this.engine.calls.get(callId);
        return call?.stateHistory.some((entry) => entry.state === state) ? call : undefined;
      },
      timeoutMs,
      `call ${callId} to reach state ${state}`,
    );
  }

  /** Waits until every queued notification has been posted. */
  drainNotifications(): Promise<void> {
    return this.sender.drain();
  }

  // ---- notification tokens ----

  /** A notification token as the calling service signs it, or forged per `overrides`. */
  signNotificationToken(
    overrides: NotificationTokenOverrides = {},
    subject?: NotificationTokenSubject,
  ): Promise<string> {
    const app = this.apps.first();
    const who = subject ?? (app ? { appId: app.appId, tenantId: app.tenantId } : undefined);
    if (!who) throw new Error("signNotificationToken: no app is registered and no subject given");
    const key = this.activeNotificationKey();
    const plain = Object.keys(overrides).length === 0;
    // Like a real service, a valid token (1 h) is reused for a while instead of signing one per
    // notification: RS256 signing per post was most of the emulator's CPU under load.
    const cacheKey = `${key.kid}|${who.appId}|${who.tenantId}`;
    const cached = plain ? this.tokenCache.get(cacheKey) : undefined;
    if (cached && cached.until > Date.now()) return cached.token;
    const token = signNotificationToken(key, () => this.unknownSigningKey(), who, overrides);
    if (plain) {
      this.tokenCache.set(cacheKey, { token, until: Date.now() + NOTIFICATION_TOKEN_REUSE_MS });
      token.catch(() => this.tokenCache.delete(cacheKey));
    }
    return token;
  }

  /**
   * Signs with a new key from now on. The new key is published at once; the previous key stays
   * published only with keepPrevious (a grace period), so tokens signed with it fail otherwise.
   */
  async rotateNotificationKey(options: { keepPrevious?: boolean } = {}): Promise<string> {
    const key = await createSigningKey();
    this.notificationKeys = options.keepPrevious ? [key, ...this.notificationKeys] : [key];
    return key.kid;
  }

  get notificationIssuer(): string {
    return NOTIFICATION_ISSUER;
  }

  async close(): Promise<void> {
    for (const schedule of this.schedules) schedule.stop();
    this.schedules.clear();
    this.serviceMedia.close();
    this.meetings.close();
    this.callees.close();
    this.engine.close();
    this.sender.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.ownCertDirectory) await rm(this.ownCertDirectory, { recursive: true, force: true });
  }

  private activeNotificationKey(): SigningKey {
    const key = this.notificationKeys[0];
    if (!key) throw new Error("no notification key");
    return key;
  }

  private unknownSigningKey(): Promise<SigningKey> {
    this.unknownKey ??= createSigningKey();
    return this.unknownKey;
  }

  /** The app an incoming call rings: the one named, or the first registered. */
  private appToCall(appId: string | undefined): RegisteredApp {
    const app = appId ? this.apps.get(appId) : this.apps.first();
    if (!app) throw new Error(appId ? `no app ${appId} is registered` : "no app is registered");
    return app;
  }

  private liveCall(callId: string): EmulatedCall {
    const call = this.engine.calls.get(callId);
    if (!call) throw new Error(`no call ${callId}`);
    if (call.state === "terminated") throw new Error(`call ${callId} has ended`);
    return call;
  }

  private mountRoutes(): void {
    const app = this.app;
    app.use(requestIds);
    app.use("/emulator", createControlRouter(this, this.logger));
    app.use(this.log.middleware);
    app.use(this.faults.middleware);
    app.get("/v1/.well-known/OpenIdConfiguration", (_req, res) => {
      res.json({
        issuer: NOTIFICATION_ISSUER,
        authorization_endpoint: `${this.url}/v1/authorize`,
        jwks_uri: `${this.url}/v1/.well-known/keys`,
        id_token_signing_alg_values_supported: ["RS256"],
        token_endpoint_auth_methods_supported: ["private_key_jwt"],
      });
    });
    app.get("/v1/.well-known/keys", (_req, res) => {
      res.json({ keys: this.notificationKeys.map((key) => key.publicJwk) });
    });
    app.use(
      "/v1.0",
      createCallsRouter({
        engine: this.engine,
        outgoingTarget: (body, app) => resolveOutgoingTarget(this.meetings, this.callees, body, app),
        serviceMedia: this.serviceMedia,
        validator: this.validator,
        apps: this.apps,
        tokenKey: () => this.tokenKey,
        logger: this.logger,
      }),
    );
    app.use(
      createTokenRouter({
        baseUrl: () => this.url,
        apps: this.apps,
        tokenKey: () => this.tokenKey,
        tokenLifetimeSeconds: () => this.tokenLifetimeSeconds,
        logger: this.logger,
      }),
    );
  }
}
