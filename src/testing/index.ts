/**
 * `teams-media-bot/testing`: the test kit for bot authors (run a handler against an emulated
 * call in a unit test, with a virtual clock). See docs/testing.md.
 */
export {
  firstDifference,
  isTone,
  levelDbfs,
  readWavSamples,
  rms,
  samplesIn,
  silence,
  type ToneOptions,
  tone,
  toneRatio,
} from "./audio.js";
export {
  type DtmfKey,
  type HandlerError,
  HandlerFailedError,
  type LogLine,
  type MarkEvent,
  startTestCall,
  TestCall,
  type TestCallOptions,
  type TestSpeaker,
} from "./test-call.js";
export { VirtualClock } from "./virtual-clock.js";
