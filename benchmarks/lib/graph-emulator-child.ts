/**
 * The Graph emulator (src/emulator/graph/main.ts) as a child of a benchmark, started by
 * GraphEmulatorProcess with an IPC channel: it exits as soon as that channel closes, that is
 * when the benchmark's process ends in any way (SIGKILL included), so no emulator is left
 * running behind a benchmark that was stopped, timed out or crashed. It answers memory probes
 * on that channel (bench:soak samples its heap).
 */
import { answerMemoryProbes } from "./memory-probe.js";

process.on("disconnect", () => process.exit(0));
// A parent that died before this line ran leaves no channel to close: exit at once.
if (!process.connected) process.exit(0);
answerMemoryProbes();
await import("../../src/emulator/graph/main.js");
