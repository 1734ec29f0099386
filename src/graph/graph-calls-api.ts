import type {
  AnswerRequest,
  CallResource,
  CommsOperation,
  CreateCallRequest,
  InvitationParticipantInfo,
  MediaPrompt,
  Participant,
  RecordingStatus,
  RecordResponseRequest,
  RejectReason,
  TransferRequest,
} from "./types.js";

/** Per-request options: the call id for logs, a signal that abandons the request, a deadline. */
export interface GraphRequestOptions {
  callId?: string;
  signal?: AbortSignal;
  /**
   * performance.now() by which Graph must have accepted the request (the answer: Graph's 15 s
   * from the incoming notification). Replaces the configured attempts and overall deadline:
   * attempts go on while one more fits before it (request-budget.ts).
   */
  deadlineAt?: number;
  /**
   * Once aborted, no further attempt starts; an attempt in flight is let finish, and a failed
   * one fails the request with its own error (gaveUp "stopped"). The answer's: Graph's
   * notifications already say the call was answered, so a pending retry is pointless.
   */
  stopRetries?: AbortSignal;
  /** Called with performance.now() when an attempt's bytes went to the socket (once per attempt). */
  onWritten?: (atMs: number) => void;
}

/**
 * The Graph calls actions the bot uses. Implemented by GraphClient (graph-client.ts); the
 * signaling layer depends on this interface only.
 * Every method resolves on success and rejects with a GraphError (graph-error.ts) otherwise.
 */
export interface GraphCallsApi {
  answer(callId: string, body: AnswerRequest, options?: GraphRequestOptions): Promise<void>;
  reject(
    callId: string,
    reason: RejectReason,
    callbackUri?: string,
    options?: GraphRequestOptions,
  ): Promise<void>;
  redirect(
    callId: string,
    targets: InvitationParticipantInfo[],
    timeoutSeconds?: number,
    callbackUri?: string,
    options?: GraphRequestOptions,
  ): Promise<void>;
  hangUp(callId: string, options?: GraphRequestOptions): Promise<void>;
  keepAlive(callId: string, options?: GraphRequestOptions): Promise<void>;
  createCall(body: CreateCallRequest, options?: GraphRequestOptions): Promise<CallResource>;
  updateRecordingStatus(
    callId: string,
    status: RecordingStatus,
    clientContext?: string,
    options?: GraphRequestOptions,
  ): Promise<CommsOperation>;
  listParticipants(callId: string, options?: GraphRequestOptions): Promise<Participant[]>;
  /** Mutes / unmutes the bot itself (its muteParticipantOperation / unmuteParticipantOperation). */
  mute(callId: string, clientContext?: string, options?: GraphRequestOptions): Promise<CommsOperation>;
  unmute(callId: string, clientContext?: string, options?: GraphRequestOptions): Promise<CommsOperation>;
  transfer(callId: string, request: TransferRequest, options?: GraphRequestOptions): Promise<void>;
  inviteParticipants(
    callId: string,
    participants: InvitationParticipantInfo[],
    clientContext?: string,
    options?: GraphRequestOptions,
  ): Promise<CommsOperation>;
}

/**
 * The IVR actions of calls answered with serviceHostedMediaConfig (Graph plays the prompts and
 * hears the tones). Implemented by GraphClient; used by the service-hosted calls
 * (src/signaling/service-hosted-calls.ts).
 */
export interface GraphServiceMediaApi {
  playPrompt(
    callId: string,
    prompts: MediaPrompt[],
    clientContext?: string,
    options?: GraphRequestOptions,
  ): Promise<CommsOperation>;
  recordResponse(
    callId: string,
    request: RecordResponseRequest,
    options?: GraphRequestOptions,
  ): Promise<CommsOperation>;
  subscribeToTone(
    callId: string,
    clientContext?: string,
    options?: GraphRequestOptions,
  ): Promise<CommsOperation>;
  cancelMediaProcessing(
    callId: string,
    clientContext?: string,
    options?: GraphRequestOptions,
  ): Promise<CommsOperation>;
}
