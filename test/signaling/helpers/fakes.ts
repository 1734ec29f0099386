import type { BotConfig } from "../../../src/config/config.js";
import type { GraphCallsApi, GraphRequestOptions } from "../../../src/graph/graph-calls-api.js";
import type {
  AnswerRequest,
  CallResource,
  CommsOperation,
  InvitationParticipantInfo,
  Participant,
  TransferRequest,
} from "../../../src/graph/types.js";
import type { RosterParticipant } from "../../../src/media/bot-api.js";
import type {
  MediaSession,
  MediaSessionEvent,
  MediaSessionProvider,
  MediaSessionRequest,
  MediaUnavailableReason,
} from "../../../src/media/media-session-provider.js";
import { type RosterContext, toRosterParticipants } from "../../../src/media/roster.js";
import { StandaloneMediaSessionProvider } from "../../../src/media/standalone-media-session-provider.js";
import type { AuthResult, NotificationTokenVerifier } from "../../../src/signaling/notification-auth.js";
import { APP_ID, TENANT } from "./key-server.js";

export function testConfig(overrides: Partial<BotConfig> = {}): BotConfig {
  return {
    appId: APP_ID,
    credential: { kind: "secret", secret: "not-used-in-these-tests" },
    tenantId: TENANT,
    publicUrl: "https://bot.example.com",
    callbackUrl: "https://bot.example.com/api/calls",
    host: "127.0.0.1",
    port: 0,
    ops: { host: "127.0.0.1", port: 0 },
    graphUrl: "https://graph.example.com/v1.0",
    authorityUrl: `https://login.example.com/${TENANT}`,
    notificationOpenIdUrl: "https://keys.example.com/openid",
    maxCalls: 10,
    mediaHostWaitMs: 0,
    allowedTenants: [],
    joinTimeoutMs: 60_000,
    lobbyTimeoutMs: 300_000,
    keepAliveIntervalMs: 60_000,
    tokenClockSkewSeconds: 120,
    notificationBodyLimitBytes: 4096,
    graph: { requestTimeoutMs: 1000, maxAttempts: 1, overallDeadlineMs: 2000 },
    media: { fqdn: "media.example.com", publicPort: 8445, unmixedAudio: false, recordingsDir: "recordings" },
    bridge: { url: "ws://127.0.0.1:1/bridge", secret: "0123456789abcdef", reconnectGraceMs: 0 },
    logLevel: "silent",
    stopOnStdinEnd: false,
    ...overrides,
  };
}

/** Accepts "Bearer ok[:tenant]", refuses "Bearer foreign" with 403 and everything else with 401. */
export class FakeVerifier implements NotificationTokenVerifier {
  verifications = 0;
  async start(): Promise<void> {}
  close(): void {}
  async verify(authorization: string | undefined): Promise<AuthResult> {
    this.verifications += 1;
    const token = authorization?.replace(/^Bearer /, "") ?? "";
    if (token.startsWith("ok")) return { ok: true, tenantId: token.split(":")[1] ?? TENANT, issuer: "test" };
    if (token === "foreign") return { ok: false, status: 403, reason: "tenant_not_allowed", detail: "" };
    return { ok: false, status: 401, reason: token ? "bad_signature" : "missing_token", detail: "" };
  }
}

export class GraphStatusError extends Error {
  constructor(
    readonly status: number,
    readonly outcomeUnknown = false,
  ) {
    super(`HTTP ${status}`);
  }
}

type Request = { action: string; callId?: string; body?: unknown };

/** Records every call; each action's behaviour can be replaced per test. */
export class FakeGraph implements GraphCallsApi {
  readonly requests: Request[] = [];
  answerImpl: (callId: string, body: AnswerRequest, options?: GraphRequestOptions) => Promise<void> =
    async () => {};
  hangUpImpl: (callId: string) => Promise<void> = async () => {};
  keepAliveImpl: (callId: string) => Promise<void> = async () => {};
  rejectImpl: (callId: string) => Promise<void> = async () => {};

  count(action: string, callId?: string): number {
    return this.requests.filter((r) => r.action === action && (callId === undefined || r.callId === callId))
      .length;
  }

  answer(callId: string, body: AnswerRequest, options?: GraphRequestOptions): Promise<void> {
    this.requests.push({ action: "answer", callId, body });
    return this.answerImpl(callId, body, options);
  }
  reject(callId: string, reason: string): Promise<void> {
    this.requests.push({ action: "reject", callId, body: { reason } });
    return this.rejectImpl(callId);
  }
  async redirect(callId: string): Promise<void> {
    this.requests.push({ action: "redirect", callId });
  }
  hangUp(callId: string): Promise<void> {
    this.requests.push({ action: "hangUp", callId });
    return this.hangUpImpl(callId);
  }
  keepAlive(callId: string): Promise<void> {
    this.requests.push({ action: "keepAlive", callId });
    return this.keepAliveImpl(callId);
  }
  async createCall(): Promise<CallResource> {
    throw new Error("not used");
  }
  /** The operation Graph answers updateRecordingStatus with. */
  recordingOperation: CommsOperation = { id: "op", status: "completed" };
  async updateRecordingStatus(callId: string, status: string): Promise<CommsOperation> {
    this.requests.push({ action: "updateRecordingStatus", callId, body: { status } });
    return this.recordingOperation;
  }
  async listParticipants(): Promise<Participant[]> {
    return [];
  }
  /** Call control: recorded; each answers with a completed operation unless replaced. */
  controlImpl: (action: string, callId: string, body: unknown) => Promise<CommsOperation> = async () => ({
    id: "op",
    status: "completed",
  });
  mute(callId: string): Promise<CommsOperation> {
    this.requests.push({ action: "mute", callId });
    return this.controlImpl("mute", callId, {});
  }
  unmute(callId: string): Promise<CommsOperation> {
    this.requests.push({ action: "unmute", callId });
    return this.controlImpl("unmute", callId, {});
  }
  async transfer(callId: string, request: TransferRequest): Promise<void> {
    this.requests.push({ action: "transfer", callId, body: request });
    await this.controlImpl("transfer", callId, request);
  }
  inviteParticipants(callId: string, participants: InvitationParticipantInfo[]): Promise<CommsOperation> {
    this.requests.push({ action: "invite", callId, body: participants });
    return this.controlImpl("invite", callId, participants);
  }
}

/** The standalone provider plus a record of what signaling told it, and knobs for tests. */
export class RecordingMediaProvider implements MediaSessionProvider {
  readonly log: string[] = [];
  unavailable: MediaUnavailableReason | null = null;
  createDelayMs = 0;
  /** Runs when a session is requested (before the bot answers). */
  onCreate?: (callId: string) => void;
  private readonly inner = new StandaloneMediaSessionProvider({
    fqdn: "media.example.com",
    publicPort: 8445,
  });
  private readonly listeners: ((event: MediaSessionEvent) => void)[] = [];

  unavailableReason(): MediaUnavailableReason | null {
    return this.unavailable ?? this.inner.unavailableReason();
  }
  async createSession(request: MediaSessionRequest): Promise<MediaSession> {
    this.log.push(`create ${request.callId}`);
    this.onCreate?.(request.callId);
    if (this.createDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.createDelayMs));
    return this.inner.createSession(request);
  }
  async bindCallId(provisionalId: string, callId: string): Promise<void> {
    this.log.push(`bind ${provisionalId} ${callId}`);
    return this.inner.bindCallId(provisionalId, callId);
  }
  callEvent(callId: string, event: { type: string }): void {
    this.log.push(`event ${callId} ${event.type}`);
  }
  async closeSession(callId: string): Promise<void> {
    this.log.push(`close ${callId}`);
    return this.inner.closeSession(callId);
  }
  callEstablished(callId: string): void {
    this.log.push(`established ${callId}`);
  }
  /** The last roster each call's media side got, as handlers would see it. */
  readonly rosters = new Map<string, RosterParticipant[]>();
  updateRoster(callId: string, participants: Participant[], context?: RosterContext): void {
    this.log.push(`roster ${callId} ${participants.map((p) => p.id).join(",")}`);
    this.rosters.set(callId, toRosterParticipants(participants, context));
  }
  toneReceived(callId: string, tone: string): void {
    this.log.push(`tone ${callId} ${tone}`);
  }
  recordingStatusUpdated(callId: string, status: string, ok: boolean): void {
    this.log.push(`recording ${callId} ${status} ${ok}`);
  }
  onEvent(listener: (event: MediaSessionEvent) => void): void {
    this.listeners.push(listener);
  }
  emit(event: MediaSessionEvent): void {
    for (const listener of this.listeners) listener(event);
  }
  /** What the media side's own registry would expose. */
  metricsText = "# TYPE media_active_sessions gauge\nmedia_active_sessions 0\n";
  async metrics(): Promise<string> {
    return this.metricsText;
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Polls until check() is true (or fails after timeoutMs). */
export async function until(check: () => boolean, timeoutMs = 3000, what = "condition"): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
