import v8 from "node:v8";

/**
 * Where the media worker's V8 heap starts its old-generation limit, in MB. A heap limit, not
 * memory taken: pages are committed only as objects need them (the worker's live heap is
 * about 30 MB at 1000 calls).
 */
export const MEDIA_WORKER_INITIAL_OLD_SPACE_MB = 256;

/**
 * Applies the media worker's heap setting to the next isolate this process creates: call it
 * right before starting the worker thread. V8 flags are process-wide, but this one is read
 * only when an isolate sets up its heap, so the threads already running keep theirs.
 *
 * Why: the worker's live heap hardly changes (it preallocates per session), yet with V8's
 * default starting limit it ran a full mark-compact about every 250 ms at 1000 calls (2-70 ms
 * pauses plus marking steps of up to 20 ms, landing on render deadlines; measured with
 * --trace-gc). With room to grow, V8 answers the socket buffers' off-heap churn with cheap
 * young-generation scavenges (about 1 ms) and marks the whole heap about every 2 s instead;
 * the worker thread's CPU per frame fell from 3.3-3.7 to about 2 µs in the same benchmark.
 */
export function configureMediaWorkerHeap(): void {
  v8.setFlagsFromString(`--initial-old-space-size=${MEDIA_WORKER_INITIAL_OLD_SPACE_MB}`);
}
