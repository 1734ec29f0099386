/**
 * Microsoft Graph v1.0 calling resource types, as the bot sends them (metadata-exact) and as it
 * receives them (tolerant: unknown properties kept, enum values as strings).
 * Normative source: shared/graph/calls-v1.0.csdl.xml.
 */

/** graph.modality members of the v1.0 metadata (unknown values are refused before sending). */
export type Modality = "audio" | "video" | "videoBasedScreenSharing" | "data";

export type CallState =
  | "incoming"
  | "establishing"
  | "ringing"
  | "established"
  | "hold"
  | "transferring"
  | "transferAccepted"
  | "redirecting"
  | "terminating"
  | "terminated";

export type RejectReason = "none" | "busy" | "forbidden";
export type RecordingStatus = "notRecording" | "recording" | "failed";

export interface Identity {
  id?: string;
  displayName?: string;
  [key: string]: unknown;
}

export interface IdentitySet {
  user?: Identity;
  application?: Identity;
  device?: Identity;
  phone?: Identity;
  [key: string]: unknown;
}

export interface ParticipantInfo {
  "@odata.type"?: string;
  identity?: IdentitySet;
  region?: string;
  languageId?: string;
  participantId?: string;
  [key: string]: unknown;
}

export interface InvitationParticipantInfo {
  "@odata.type"?: string;
  identity: IdentitySet;
  [key: string]: unknown;
}

/** transfer's parameters: whom to transfer to, and (consultative transfer) who is transferred. */
export interface TransferRequest {
  transferTarget: InvitationParticipantInfo;
  transferee?: ParticipantInfo;
}

export interface ResultInfo {
  code: number;
  subcode: number;
  message?: string;
}

export interface ToneInfo {
  sequenceId: number;
  tone: string;
}

export interface AppHostedMediaConfig {
  "@odata.type": "#microsoft.graph.appHostedMediaConfig";
  blob: string;
}

/** graph.mediaInfo: a media file Graph fetches over https; resourceId (a GUID) is its cache key. */
export interface MediaInfo {
  uri: string;
  resourceId?: string;
}

/** Media hosted by Graph itself (prompts, DTMF, recording): no media session on our side. */
export interface ServiceHostedMediaConfig {
  "@odata.type": "#microsoft.graph.serviceHostedMediaConfig";
  /** Files Graph downloads and caches before the call is established. */
  preFetchMedia?: MediaInfo[];
}

/** graph.mediaPrompt, the one concrete graph.prompt in v1.0. */
export interface MediaPrompt {
  "@odata.type": "#microsoft.graph.mediaPrompt";
  mediaInfo: MediaInfo;
}

/** Body of POST /communications/calls/{id}/recordResponse (all optional, per the CSDL). */
export interface RecordResponseRequest {
  prompts?: MediaPrompt[];
  bargeInAllowed?: boolean;
  initialSilenceTimeoutInSeconds?: number;
  maxSilenceTimeoutInSeconds?: number;
  maxRecordDurationInSeconds?: number;
  playBeep?: boolean;
  stopTones?: string[];
  clientContext?: string;
}

export interface ChatInfo {
  threadId?: string;
  messageId?: string;
  replyChainMessageId?: string;
}

export interface MeetingInfo {
  "@odata.type": string;
  [key: string]: unknown;
}

/** Body of POST /communications/calls/{id}/answer. */
export interface AnswerRequest {
  callbackUri: string;
  mediaConfig: AppHostedMediaConfig | ServiceHostedMediaConfig;
  acceptedModalities: Modality[];
  participantCapacity?: number;
  callOptions?: { "@odata.type": "#microsoft.graph.incomingCallOptions"; [key: string]: unknown };
}

/** Body of POST /communications/calls (outgoing call or meeting join). */
export interface CreateCallRequest {
  "@odata.type": "#microsoft.graph.call";
  callbackUri: string;
  requestedModalities: Modality[];
  mediaConfig: AppHostedMediaConfig;
  source?: ParticipantInfo;
  targets?: InvitationParticipantInfo[];
  chatInfo?: ChatInfo;
  meetingInfo?: MeetingInfo;
  tenantId?: string;
  [key: string]: unknown;
}

export interface MediaStream {
  mediaType?: string;
  label?: string;
  sourceId?: string;
  direction?: string;
  serverMuted?: boolean;
}

export interface Participant {
  id: string;
  info?: ParticipantInfo;
  mediaStreams?: MediaStream[];
  isMuted?: boolean;
  isInLobby?: boolean;
  [key: string]: unknown;
}

/** A call as Graph returns it from POST /communications/calls. */
export interface CallResource {
  id: string;
  state?: string;
  [key: string]: unknown;
}

export interface CommsOperation {
  id?: string;
  status?: string;
  clientContext?: string;
  resultInfo?: ResultInfo;
  [key: string]: unknown;
}
