import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const source = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

// CI asks for a JSON report beside the console output, to print one summary line.
const jsonReport = process.env.VITEST_JSON_REPORT;

export default defineConfig({
  // The examples import the package by name, as its users do (tsconfig.json "paths" for tsc).
  resolve: {
    alias: [
      { find: /^teams-media-bot$/, replacement: source("index.ts") },
      { find: /^teams-media-bot\/emulators$/, replacement: source("emulators.ts") },
      { find: /^teams-media-bot\/testing$/, replacement: source("testing/index.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests open real sockets and real worker threads; on 2 cores, a few files at a time.
    maxWorkers: 2,
    reporters: jsonReport ? ["default", ["json", { outputFile: jsonReport }]] : ["default"],
  },
});
