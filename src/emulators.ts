/**
 * `teams-media-bot/emulators`: the Graph calling emulator and the media platform emulator, to
 * run a bot against on loopback (docs/graph-emulator.md, docs/media-emulator.md).
 */
export { BridgeProtocolError } from "./bridge/bridge-protocol-error.js";
export { GraphEmulator, type GraphEmulatorOptions } from "./emulator/graph/graph-emulator.js";
export {
  type EmulatorFault,
  type EmulatorStats,
  MediaPlatformEmulator,
  type MediaPlatformEmulatorOptions,
} from "./emulator/media/media-platform-emulator.js";
