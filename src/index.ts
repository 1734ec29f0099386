/**
 * `teams-media-bot`: the public entry point for bot authors.
 *
 * - the handler API (types a handler module is written against) and its errors;
 * - the built-in handlers (echo, player, recorder);
 * - WAV helpers;
 * - the bot itself, to embed in one's own process (configuration, app, production start-up).
 *
 * The emulators are in `teams-media-bot/emulators`, the test kit in `teams-media-bot/testing`.
 * Everything else under src/ is internal and may change without notice.
 */

export { BotApp, type BotAppOptions } from "./app/bot-app.js";
export { startProductionBot } from "./app/production-bot.js";
export { type NotReady, type NotReadyReason, Readiness } from "./app/readiness.js";
export { type BotConfig, hasBotConfiguration, loadConfig, readRawConfig } from "./config/config.js";
export { ConfigError } from "./config/config-error.js";
export { GraphError } from "./graph/graph-error.js";
export {
  type MeetingJoinInfo,
  MeetingJoinUrlError,
  parseMeetingJoinUrl,
} from "./graph/meeting-join-url.js";
export type { MeetingChatInfo, MeetingIdJoin, UserCallTarget } from "./graph/outgoing-call-requests.js";
export { InvalidRequestError } from "./graph/request-bodies.js";
export { GraphTokenError } from "./graph/token-provider.js";
export { UntrustedCertificateError } from "./graph/untrusted-certificate.js";
export { createLogger, type Logger, silentLogger } from "./log/logger.js";
export type {
  CallEndReason,
  CallEvent,
  CallHandler,
  CallHandlerFactory,
  DtmfTone,
  HandlerSpec,
  MediaCall,
  ParticipantKind,
  ParticipantRole,
  Pcm,
  PlaybackResult,
  PlayOptions,
  ReceivedAudioFrame,
  RecordingInfo,
  RecordOptions,
  RosterParticipant,
  StreamOptions,
  UnmixedSpeakerAudio,
} from "./media/bot-api.js";
export {
  type CallControlFailureReason,
  CallControlRefusedError,
  type CallTarget,
} from "./media/call-control-request.js";
export { type DefinedHandler, defineHandler, type HandlerDefinition } from "./media/define-handler.js";
export { HandlerLoadError } from "./media/handler-loader.js";
export { createEchoHandler } from "./media/processors/echo.js";
export { createPlayerHandler, type PlayerOptions } from "./media/processors/player.js";
export { createRecorderHandler, type RecorderOptions } from "./media/processors/recorder.js";
export { MAX_WAV_BYTES, readPcm16kWav, WavFormatError } from "./media/wav-file.js";
export { pcm16kWavHeader, WAV_HEADER_BYTES, WavFileWriter } from "./media/wav-writer.js";
export { CallControlError, type CallControlFailure } from "./signaling/call-control.js";
export type { MeetingTarget, PlaceCallOptions } from "./signaling/outgoing-calls.js";
export {
  CallNotEstablishedError,
  PlaceCallFailedError,
  type PlaceCallFailureStage,
  type PlaceCallRefusalReason,
  PlaceCallRefusedError,
} from "./signaling/place-call-errors.js";
export type { PlacedCall, PlacedCallEnd, PlacedCallKind } from "./signaling/placed-call.js";
export {
  type DefinedServiceHostedHandler,
  defineServiceHostedHandler,
  type OperationResult,
  type PromptSpec,
  type RecordOptions as ServiceHostedRecordOptions,
  type RecordResult,
  type ServiceHostedCall,
  type ServiceHostedCallInfo,
  type ServiceHostedChoice,
  type ServiceHostedHandler,
  type ServiceHostedHandlerDefinition,
} from "./signaling/service-hosted-api.js";
export { ServiceHostedInputError } from "./signaling/service-hosted-calls.js";
