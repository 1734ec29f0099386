/**
 * The fault suites' lifecycle: each test starts its own FaultStack, stopped after the test
 * (which then fails if the stack left handles open), and the file's shared Graph emulator is
 * closed after the file.
 */
import { afterAll, afterEach, expect } from "vitest";
import { closeSharedGraph, FaultStack, type FaultStackOptions } from "./fault-stack.js";

/** Registers the hooks; call at the top of a test file. Returns the function the tests start their stack with. */
export function faultStackPerTest(): (options: FaultStackOptions) => Promise<FaultStack> {
  let stack: FaultStack | undefined;
  afterAll(closeSharedGraph);
  afterEach(async () => {
    const left = await stack?.stop();
    stack = undefined;
    expect(left ?? [], "handles left open").toEqual([]);
  });
  return async (options) => {
    stack = await FaultStack.start(options);
    return stack;
  };
}
