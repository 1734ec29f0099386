import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Whether the module at `moduleUrl` (its `import.meta.url`) is the script node was started
 * with: `node dist/bot.js`, `tsx src/bot.ts`, or an npm bin link to it. Compares real paths, as
 * node resolves the main script through symlinks (npm's bin links) and URLs escape characters a
 * path keeps (spaces).
 */
export function isMainModule(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
