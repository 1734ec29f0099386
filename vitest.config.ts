import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests open real sockets and real worker threads; on 2 cores, a few files at a time.
    maxWorkers: 2,
  },
});
