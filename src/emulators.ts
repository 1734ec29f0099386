/**
 * `teams-media-bot/emulators`: the Graph calling emulator and the media platform emulator, to
 * run a bot against on loopback (docs/graph-emulator.md, docs/media-emulator.md), and what wires
 * a bot to them: its BOT_* settings, a throwaway https certificate, a free loopback port.
 */
export { BridgeProtocolError } from "./bridge/bridge-protocol-error.js";
export { type EmulatedBotSettings, emulatedBotEnv } from "./demo/emulator-bot-env.js";
export { freePort } from "./demo/free-port.js";
export { createLocalBotTls, type LocalBotTls } from "./demo/local-bot-tls.js";
export { GraphEmulator, type GraphEmulatorOptions } from "./emulator/graph/graph-emulator.js";
export {
  type ParticipantAudio,
  type SpeakerSink,
  speakersInProcess,
  speakersOverLink,
} from "./emulator/graph/participant-audio.js";
export {
  type EmulatorFault,
  type EmulatorStats,
  MediaPlatformEmulator,
  type MediaPlatformEmulatorOptions,
} from "./emulator/media/media-platform-emulator.js";
