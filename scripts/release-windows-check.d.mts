// Types of release-windows-check.mjs, for the tests that use it.
export declare const DEV_PACKAGES: string[];
export declare const REQUIRED_ENTRIES: string[];
export declare function isTypeScriptSource(file: string): boolean;
export declare function checkBundleEntries(
  entries: string[],
  options: { topFolder: string; botDependencies: string[]; requireBotService: boolean },
): string[];
export declare function checkBotTree(botDir: string): { problems: string[]; packages: number };
