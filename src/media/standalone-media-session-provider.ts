import { randomUUID } from "node:crypto";
import type { Participant } from "../graph/types.js";
import {
  buildMediaSessionConfiguration,
  mediaProcessorUri,
  serializeMediaBlob,
} from "./media-session-config.js";
import type {
  MediaSession,
  MediaSessionEvent,
  MediaSessionProvider,
  MediaSessionRequest,
  MediaUnavailableReason,
} from "./media-session-provider.js";

/** Versions reported by the media platform build this provider stands in for. */
export const STANDALONE_MEDIA_VERSIONS = {
  skypeMediaBotsVersion: "1.31.0.225",
  mediaStackVersion: "2024.53.1.1",
  mpVersion: "7.2.0.3881",
} as const;

/**
 * Signaling-only media provider: builds a well-formed session configuration from the media
 * settings (mpUri from FQDN and public port, fresh context ids) without any media host behind
 * it. Used when the bot runs without a bridge (signaling tests, answer-latency benchmark);
 * no audio flows through it.
 */
export class StandaloneMediaSessionProvider implements MediaSessionProvider {
  private readonly sessions = new Set<string>();
  private readonly listeners: ((event: MediaSessionEvent) => void)[] = [];

  constructor(private readonly settings: { fqdn: string; publicPort: number; maxSessions?: number }) {}

  unavailableReason(): MediaUnavailableReason | null {
    if (this.settings.maxSessions !== undefined && this.sessions.size >= this.settings.maxSessions)
      return "capacity";
    return null;
  }

  async createSession(request: MediaSessionRequest): Promise<MediaSession> {
    const mediaSessionId = request.placed ? request.callId : randomUUID();
    this.sessions.add(request.callId);
    const configuration = buildMediaSessionConfiguration({
      callId: request.callId,
      mediaSessionId,
      mpUri: mediaProcessorUri(this.settings.fqdn, this.settings.publicPort),
      audioRenderContextId: randomUUID(),
      audioSourceContextId: randomUUID(),
      versions: STANDALONE_MEDIA_VERSIONS,
    });
    return { callId: request.callId, mediaSessionId, configuration, blob: serializeMediaBlob(configuration) };
  }

  async bindCallId(provisionalId: string, callId: string): Promise<void> {
    if (!this.sessions.delete(provisionalId)) throw new Error(`no media session under ${provisionalId}`);
    this.sessions.add(callId);
  }

  callEvent(): void {}

  async closeSession(callId: string): Promise<void> {
    this.sessions.delete(callId);
  }

  callEstablished(callId: string): void {
    if (this.sessions.has(callId))
      for (const listener of this.listeners) listener({ kind: "mediaConnected", callId });
  }

  updateRoster(_callId: string, _participants: Participant[]): void {}

  toneReceived(_callId: string, _tone: string): void {}

  recordingStatusUpdated(): void {}

  onEvent(listener: (event: MediaSessionEvent) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.sessions.clear();
  }
}
