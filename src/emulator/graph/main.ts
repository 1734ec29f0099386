/** `npm run emulator:graph`: the standalone Graph calling emulator (see run-graph-emulator.ts). */
import { runGraphEmulator } from "./run-graph-emulator.js";

await runGraphEmulator();
