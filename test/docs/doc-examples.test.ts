/**
 * The TypeScript examples of README.md and docs/*.md are type-checked against the public entry
 * points, imported as a bot author writes them ("teams-media-bot", "teams-media-bot/emulators",
 * "teams-media-bot/testing", mapped to src/ here by `paths`), so an example cannot rot. A block
 * that is a fragment on purpose is preceded by a `<!-- not-checked -->` line. A block preceded by
 * `<!-- same-as: examples/... -->` must be that file's text exactly: the file itself is compiled
 * and run with the tests (examples/**), so the copy in the document is checked by comparison.
 *
 * Also: every error class the docs name is exported from a public entry, and docs/media-api.md
 * lists every error class the main entry exports.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const NOT_CHECKED = "<!-- not-checked -->";
const SAME_AS = /^<!-- same-as: (examples\/[\w./-]+) -->$/;
const ENTRIES: Record<string, string> = {
  "teams-media-bot": "src/index.ts",
  "teams-media-bot/emulators": "src/emulators.ts",
  "teams-media-bot/testing": "src/testing/index.ts",
};

interface Example {
  /** e.g. docs/media-api.md:17 (the line of the opening fence) */
  where: string;
  /** Where the example is compiled: a file that does not exist, next to src/ and test/. */
  path: string;
  code: string;
  /** Markdown line of the code's first line, less one. */
  lineOffset: number;
}

function docFiles(): string[] {
  const docs = readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => join(ROOT, "docs", name));
  return [join(ROOT, "README.md"), ...docs];
}

interface Copy {
  where: string;
  /** The file the block must equal, relative to the repository. */
  file: string;
  code: string;
}
const copies: Copy[] = [];

function examplesOf(file: string): Example[] {
  const lines = readFileSync(file, "utf8").split("\n");
  const examples: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*```ts\s*$/.test(lines[i] as string)) continue;
    const start = i;
    let end = i + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end] as string)) end++;
    let before = start - 1;
    while (before >= 0 && (lines[before] as string).trim() === "") before--;
    const where = `${relative(ROOT, file)}:${start + 1}`;
    const marker = (lines[before] ?? "").trim();
    const sameAs = SAME_AS.exec(marker)?.[1];
    if (sameAs !== undefined) {
      copies.push({ where, file: sameAs, code: `${lines.slice(start + 1, end).join("\n")}\n` });
    } else if (marker !== NOT_CHECKED) {
      examples.push({
        where,
        path: join(ROOT, "doc-examples", `${where.replace(/[/:.]/g, "_")}.ts`),
        // As a module: its names stay its own, and top-level await is allowed.
        code: `${lines.slice(start + 1, end).join("\n")}\nexport {};\n`,
        lineOffset: start + 1,
      });
    }
    i = end;
  }
  return examples;
}

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(ROOT, "tsconfig.json");
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const paths: Record<string, string[]> = {};
  for (const [name, file] of Object.entries(ENTRIES)) paths[name] = [join(ROOT, file)];
  return { ...parsed.options, paths, noEmit: true, noUnusedLocals: false };
}

const examples = docFiles().flatMap(examplesOf);
let program: ts.Program;

beforeAll(() => {
  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  const byPath = new Map(examples.map((example) => [example.path, example.code]));
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (path) => byPath.has(path) || fileExists.call(host, path);
  host.readFile = (path) => byPath.get(path) ?? readFile.call(host, path);
  host.getSourceFile = (path, language, ...rest) => {
    const code = byPath.get(path);
    return code !== undefined
      ? ts.createSourceFile(path, code, language, true)
      : getSourceFile.call(host, path, language, ...rest);
  };
  program = ts.createProgram({
    rootNames: [
      ...examples.map((example) => example.path),
      ...Object.values(ENTRIES).map((f) => join(ROOT, f)),
    ],
    options,
    host,
  });
}, 120_000);

function diagnosticsOf(example: Example): string[] {
  const source = program.getSourceFile(example.path);
  if (source === undefined) return ["not compiled"];
  return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map(
    (diagnostic) => {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
      if (diagnostic.start === undefined) return message;
      const { line } = source.getLineAndCharacterOfPosition(diagnostic.start);
      return `line ${line + 1 + example.lineOffset}: ${message}`;
    },
  );
}

describe("documentation examples", () => {
  it("finds the examples (README.md's and docs/media-api.md's among them)", () => {
    const inReadme = [...examples, ...copies].filter((example) => example.where.startsWith("README.md"));
    expect(inReadme.length).toBeGreaterThan(1);
    expect(
      examples.filter((example) => example.where.startsWith("docs/media-api.md")).length,
    ).toBeGreaterThan(1);
  });

  it.each(examples.map((example) => [example.where, example] as const))(
    "%s type-checks",
    (_where, example) => {
      expect(diagnosticsOf(example)).toEqual([]);
    },
  );

  it("finds README.md's copies of examples/my-bot, each the same as its file", () => {
    expect(copies.map((copy) => copy.file)).toEqual(
      expect.arrayContaining(["examples/my-bot/my-bot.ts", "examples/my-bot/my-bot.test.ts"]),
    );
    for (const copy of copies) {
      expect(copy.code, `${copy.where} is a copy of ${copy.file}`).toBe(
        readFileSync(join(ROOT, copy.file), "utf8"),
      );
    }
  });

  it("exports every error class the docs name from a public entry, and media-api.md lists them", () => {
    const checker = program.getTypeChecker();
    const exported = new Set<string>();
    for (const file of Object.values(ENTRIES)) {
      const source = program.getSourceFile(join(ROOT, file));
      const module = source && checker.getSymbolAtLocation(source);
      for (const symbol of module ? checker.getExportsOfModule(module) : []) exported.add(symbol.name);
    }
    const errorClasses = new Set<string>();
    for (const source of program.getSourceFiles()) {
      if (!source.fileName.startsWith(join(ROOT, "src"))) continue;
      for (const statement of source.statements) {
        if (ts.isClassDeclaration(statement) && statement.name?.text.endsWith("Error"))
          errorClasses.add(statement.name.text);
      }
    }
    const documented = new Set(
      docFiles().flatMap((file) => readFileSync(file, "utf8").match(/\b[A-Z][A-Za-z]*Error\b/g) ?? []),
    );
    const notExported = [...documented].filter((name) => errorClasses.has(name) && !exported.has(name));
    expect(notExported).toEqual([]);
    const mediaApi = readFileSync(join(ROOT, "docs", "media-api.md"), "utf8");
    const mainSource = program.getSourceFile(join(ROOT, ENTRIES["teams-media-bot"] as string));
    const mainModule = mainSource && checker.getSymbolAtLocation(mainSource);
    const mainErrors = (mainModule ? checker.getExportsOfModule(mainModule) : [])
      .map((symbol) => symbol.name)
      .filter((name) => errorClasses.has(name));
    expect(mainErrors.length).toBeGreaterThan(3);
    expect(mainErrors.filter((name) => !mediaApi.includes(`\`${name}\``))).toEqual([]);
  });
});
