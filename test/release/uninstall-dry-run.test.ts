/**
 * Uninstall-TeamsMediaBot.ps1 -DryRun removes exactly what the installer records: the manifest
 * an install dry run prints is laid out as an installed tree (folders and files on disk), and
 * the uninstall's plan must name every service, firewall rule and folder of it, and nothing
 * else. Then -KeepConfig, and a second run over nothing (idempotent).
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  asArguments,
  GOOD_MACHINE,
  goodInstallValues,
  prepareGoodInstall,
  writeSettings,
} from "./fixtures.js";
import { lines, runScript } from "./pwsh.js";

const RUN_MS = 120_000;

interface Manifest {
  installDir: string;
  dataDir: string;
  services: string[];
  firewallGroup: string;
  firewallRules: string[];
  directories: string[];
  files: string[];
}

/** A path the manifest writes Windows-style, on this machine. */
const local = (windowsPath: string) => windowsPath.replaceAll("\\", "/");

describe("Uninstall-TeamsMediaBot.ps1 -DryRun", () => {
  let work: string;
  let manifest: Manifest;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "tmb-uninstall-"));
    const prepared = await prepareGoodInstall(work, "media");
    const { bundle, certificate: cert } = prepared;
    const settings = await writeSettings(path.join(work, "settings.json"), goodInstallValues(prepared), {
      InstallDir: path.join(work, "app"),
      DataDir: path.join(work, "data"),
    });
    const install = await runScript(
      "Install-TeamsMediaBot.ps1",
      [
        "-SettingsFile",
        settings,
        "-BundleDir",
        bundle,
        "-DryRun",
        "-CertificateFile",
        cert.pfx,
        ...asArguments(GOOD_MACHINE),
      ],
      RUN_MS,
    );
    expect(install.code, install.stdout).toBe(0);
    const line = lines(install).find((l) => l.startsWith("MANIFEST "));
    if (!line) throw new Error(`no MANIFEST line in\n${install.stdout}`);
    manifest = JSON.parse(line.slice("MANIFEST ".length)) as Manifest;
  }, RUN_MS);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Lays the manifest out on disk as an install would have, with the platform's DLL in host\. */
  async function layOut(): Promise<void> {
    for (const dir of manifest.directories) await mkdir(local(dir), { recursive: true });
    for (const file of manifest.files) {
      await mkdir(path.dirname(local(file)), { recursive: true });
      await writeFile(local(file), "{}");
    }
    await writeFile(local(`${manifest.installDir}\\install-manifest.json`), JSON.stringify(manifest));
    await writeFile(local(`${manifest.installDir}\\host\\MediaPerf.dll`), "");
  }

  it(
    "lists exactly what the install created: both services (bot first), every firewall rule, the folders",
    async () => {
      await layOut();
      const run = await runScript(
        "Uninstall-TeamsMediaBot.ps1",
        ["-InstallDir", manifest.installDir, "-DryRun"],
        RUN_MS,
      );
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const planned = lines(run).filter((l) => l.startsWith("WOULD "));
      const installDir = manifest.installDir;
      expect(planned).toEqual([
        "WOULD service TeamsMediaBot: stop and delete",
        "WOULD service TeamsMediaHost: stop and delete",
        ...manifest.firewallRules.map((rule) => `WOULD firewall ${rule}: remove`),
        "WOULD firewall group TeamsMediaBot: remove any rule left in the group",
        `WOULD run performance counters: unregister MediaPerf.dll and the MPServiceImp counters in ${installDir}\\host`,
        `WOULD remove ${installDir}: delete the folder and everything in it`,
        `WOULD remove ${manifest.dataDir}\\config: delete the folder and everything in it`,
        `WOULD remove ${manifest.dataDir}\\recordings: delete the folder and everything in it`,
        `WOULD remove ${manifest.dataDir}: delete if empty`,
      ]);
      // What the install made, seen from the uninstall's side.
      expect(manifest.services.sort()).toEqual(["TeamsMediaBot", "TeamsMediaHost"]);
      expect(manifest.firewallRules).toHaveLength(4);
      const removedFolders = planned
        .filter((l) => l.startsWith("WOULD remove "))
        .map((l) => l.slice(13, l.indexOf(": ")));
      expect(removedFolders.sort()).toEqual([...manifest.directories].sort());
      for (const file of manifest.files)
        expect(
          removedFolders.some((dir) => file.startsWith(`${dir}\\`)),
          `${file} is in a removed folder`,
        ).toBe(true);
      // A dry run changes nothing.
      for (const dir of manifest.directories) expect(existsSync(local(dir)), dir).toBe(true);
    },
    RUN_MS,
  );

  it(
    "keeps the configuration with -KeepConfig",
    async () => {
      await layOut();
      const run = await runScript(
        "Uninstall-TeamsMediaBot.ps1",
        ["-InstallDir", manifest.installDir, "-KeepConfig", "-DryRun"],
        RUN_MS,
      );
      expect(run.code).toBe(0);
      const out = lines(run);
      expect(out).toContain(`keep  ${manifest.dataDir}\\config (-KeepConfig)`);
      expect(out.filter((l) => l.includes("\\config:"))).toEqual([]);
    },
    RUN_MS,
  );

  it(
    "over nothing installed, finds every folder gone and exits 0",
    async () => {
      const empty = path.join(work, "never-installed");
      const run = await runScript(
        "Uninstall-TeamsMediaBot.ps1",
        ["-InstallDir", empty, "-DataDir", path.join(work, "no-data"), "-DryRun"],
        RUN_MS,
      );
      expect(run.code).toBe(0);
      const out = lines(run);
      expect(out[0]).toBe(
        `no ${empty}\\install-manifest.json: removing the fixed names and default folders (dry run)`,
      );
      expect(out).toContain(`gone  folder ${empty}`);
      expect(out.filter((l) => l.startsWith("WOULD remove"))).toEqual([]);
      // Off Windows the services and rules cannot be looked up: they stay in the plan, by name.
      expect(out.filter((l) => l.startsWith("WOULD service"))).toEqual([
        "WOULD service TeamsMediaBot: stop and delete",
        "WOULD service TeamsMediaHost: stop and delete",
      ]);
    },
    RUN_MS,
  );
});
