import { defineConfig } from "vitest/config";

// CI asks for a JSON report beside the console output, to print one summary line.
const jsonReport = process.env.VITEST_JSON_REPORT;

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests open real sockets and real worker threads; on 2 cores, a few files at a time.
    maxWorkers: 2,
    reporters: jsonReport ? ["default", ["json", { outputFile: jsonReport }]] : ["default"],
  },
});
