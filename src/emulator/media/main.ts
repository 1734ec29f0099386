/** `npm run emulator:media`: the standalone media platform emulator (see run-media-emulator.ts). */
import { runMediaEmulator } from "./run-media-emulator.js";

await runMediaEmulator();
