import type {
  CallState,
  ChatInfo,
  CommsOperation,
  IdentitySet,
  InvitationParticipantInfo,
  MeetingInfo,
  Participant,
  ParticipantInfo,
  ResultInfo,
} from "../../graph/types.js";
import type { MediaSessionConfiguration } from "../../media/media-session-config.js";

/** The emulator's record of one call: what Graph knows about it, plus timing for tests. */
export interface EmulatedCall {
  id: string;
  appId: string;
  tenantId: string;
  direction: "incoming" | "outgoing";
  state: CallState;
  /** Where notifications for this call go (the app's URL, then the answer's callbackUri). */
  callbackUri: string;
  source: ParticipantInfo;
  targets: InvitationParticipantInfo[];
  requestedModalities: string[];
  acceptedModalities?: string[];
  myParticipantId: string;
  callChainId: string;
  scenarioId: string;
  chatInfo?: ChatInfo;
  meetingInfo?: MeetingInfo;
  /** The mediaConfig the bot sent (answer or create). */
  mediaConfig?: Record<string, unknown>;
  /** The parsed appHostedMediaConfig blob, for the media emulator. */
  mediaSession?: MediaSessionConfiguration;
  participants: Participant[];
  /** The rosterSequenceNumber of the last roster notification posted for this call. */
  rosterSequenceNumber?: number;
  resultInfo?: ResultInfo;
  createdAt: number;
  answeredAt?: number;
  endedAt?: number;
  lastKeepAliveAt?: number;
  stateHistory: { state: CallState; at: number }[];
  recordingStatus?: string;
  isMuted: boolean;
  toneSequence: number;
  operations: CommsOperation[];
}

export interface CallerIdentity {
  id?: string;
  displayName?: string;
  /** Replace the whole identity set (e.g. a phone or guest caller). */
  identity?: IdentitySet;
}

export interface PlaceIncomingCallOptions {
  appId?: string;
  tenantId?: string;
  caller?: CallerIdentity;
  /** A meeting invite: adds chatInfo and meetingInfo. */
  meeting?: boolean;
  requestedModalities?: string[];
}
