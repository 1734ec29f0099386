/**
 * Install-TeamsMediaBot.ps1 -DryRun under PowerShell 7 against fake inputs: certificate files
 * instead of LocalMachine\My, a settings file from the real template, -Assume* machine facts,
 * and real loopback sockets for the port checks. A good machine passes and the planned actions
 * are what the settings say; each fault gives its exact message and exit code 1.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, readRawConfig } from "../../src/config/config.js";
import {
  asArguments,
  type CertificateFiles,
  FQDN,
  GOOD_MACHINE,
  goodInstallValues,
  type InstallPorts,
  makeCertificate,
  prepareGoodInstall,
  validFor,
  writeSettings,
} from "./fixtures.js";
import { lines, type Run, runScript } from "./pwsh.js";

// pwsh starts in 1-3 s; a busy machine may take far longer.
const RUN_MS = 120_000;

function listen(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => resolve(server));
  });
}
const portOf = (server: Server) => (server.address() as { port: number }).port;

describe("Install-TeamsMediaBot.ps1 -DryRun", () => {
  let work: string;
  let bundle: string;
  let good: CertificateFiles;
  let ports: InstallPorts;
  let values: Record<string, string>;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "tmb-install-"));
    const prepared = await prepareGoodInstall(work, "good", [FQDN, "other.contoso.example"]);
    ({ bundle, certificate: good, ports } = prepared);
    values = goodInstallValues(prepared);
  }, 60_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** A dry run with the good machine, the good certificate and these changes. */
  async function install(
    options: {
      values?: Record<string, unknown>;
      machine?: Record<string, string>;
      certificate?: string;
      bundleDir?: string;
      extra?: string[];
    } = {},
  ): Promise<Run> {
    const settings = await writeSettings(
      path.join(work, `settings-${Math.random().toString(36).slice(2)}.json`),
      { ...values, BOT_MEDIA_PUBLIC_PORT: "22210", ...options.values },
      {
        InstallDir: "D:\\Apps\\TeamsMediaBot",
        DataDir: "D:\\Data\\TeamsMediaBot",
        MediaPortRange: "50000-50999",
      },
    );
    return runScript(
      "Install-TeamsMediaBot.ps1",
      [
        "-SettingsFile",
        settings,
        "-BundleDir",
        options.bundleDir ?? bundle,
        "-DryRun",
        "-CertificateFile",
        options.certificate ?? good.pfx,
        ...asArguments({ ...GOOD_MACHINE, ...options.machine }),
        ...(options.extra ?? []),
      ],
      RUN_MS,
    );
  }

  const failures = (run: Run) => lines(run).filter((line) => line.startsWith("FAIL"));

  it(
    "passes every check on a good machine and plans exactly what the settings say",
    async () => {
      const run = await install();
      expect(run.stderr).toBe("");
      expect(failures(run)).toEqual([]);
      expect(run.code).toBe(0);
      const out = lines(run);
      for (const check of [
        "windows",
        "cores",
        "vcruntime",
        "dotnet",
        "pwsh",
        "node",
        "settings",
        "services",
        "bundle",
      ])
        expect(
          out.some((line) => line.startsWith(`OK   ${check}:`)),
          check,
        ).toBe(true);
      expect(out).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^OK   certificate: ${good.thumbprint} for ${FQDN.replaceAll(".", "\\.")}, valid until \\d{4}-\\d\\d-\\d\\d \\((364|365) days left\\)$`,
          ),
        ),
      );
      expect(out).toContain(`OK   port: TCP ${ports.bot} (BOT_PORT, signaling) is free`);
      expect(out).toContain(
        `OK   port: TCP ${ports.media} (BOT_MEDIA_INTERNAL_PORT, media, InstanceInternalPort) is free`,
      );

      const planned = out.filter((line) => line.startsWith("WOULD "));
      const host = "D:\\Apps\\TeamsMediaBot\\host";
      expect(planned).toEqual([
        "WOULD mkdir D:\\Apps\\TeamsMediaBot: create",
        "WOULD mkdir D:\\Data\\TeamsMediaBot: create",
        "WOULD mkdir D:\\Data\\TeamsMediaBot\\config: create",
        "WOULD mkdir D:\\Data\\TeamsMediaBot\\recordings: create",
        `WOULD copy ${host}: from ${path.join(bundle, "host")}`,
        `WOULD copy D:\\Apps\\TeamsMediaBot\\bot-service: from ${path.join(bundle, "bot-service")}`,
        `WOULD copy D:\\Apps\\TeamsMediaBot\\bot: from ${path.join(bundle, "bot")}`,
        `WOULD copy D:\\Apps\\TeamsMediaBot\\scripts: from ${path.join(bundle, "scripts")}`,
        `WOULD write ${host}\\appsettings.json: host settings: BOT_APP_ID, BOT_MEDIA_FQDN, BOT_MEDIA_PUBLIC_PORT, BOT_MEDIA_INTERNAL_PORT, BOT_MEDIA_PUBLIC_IP, BOT_MEDIA_CERT_THUMBPRINT, BOT_BRIDGE_URL, BOT_BRIDGE_SECRET`,
        "WOULD write D:\\Data\\TeamsMediaBot\\config\\bot.json: bot settings: BOT_APP_ID, BOT_APP_SECRET, BOT_TENANT_ID, BOT_PUBLIC_URL, BOT_PORT, BOT_OPS_PORT, BOT_MEDIA_FQDN, BOT_MEDIA_PUBLIC_PORT, BOT_BRIDGE_URL, BOT_BRIDGE_SECRET, BOT_RECORDINGS_DIR",
        expect.stringMatching(
          /^WOULD write D:\\Data\\TeamsMediaBot\\config\\settings\.json: copy of .*settings-.*\.json \(read by Test-TeamsMediaBot\.ps1\)$/,
        ),
        "WOULD acl D:\\Data\\TeamsMediaBot\\config: SYSTEM and Administrators only (holds secrets)",
        `WOULD acl ${host}\\appsettings.json: SYSTEM and Administrators only (holds secrets)`,
        `WOULD run ${host}\\MediaPlatformStartupScript.bat: in ${host} (registers the platform's performance counters)`,
        `WOULD firewall TeamsMediaBot signaling TCP ${ports.bot}: inbound TCP ${ports.bot} allow, group TeamsMediaBot`,
        `WOULD firewall TeamsMediaBot media TCP ${ports.media}: inbound TCP ${ports.media} allow, group TeamsMediaBot`,
        "WOULD firewall TeamsMediaBot media range TCP 50000-50999: inbound TCP 50000-50999 allow, group TeamsMediaBot",
        "WOULD firewall TeamsMediaBot media range UDP 50000-50999: inbound UDP 50000-50999 allow, group TeamsMediaBot",
        `WOULD service TeamsMediaHost: create "${host}\\TeamsMediaBridge.Host.exe" start=delayed-auto`,
        "WOULD service TeamsMediaHost: failure reset= 86400 actions= restart/5000/restart/5000/restart/30000, failureflag 1",
        'WOULD service TeamsMediaBot: create "D:\\Apps\\TeamsMediaBot\\bot-service\\TeamsMediaBot.Service.exe" start=delayed-auto depend=TeamsMediaHost',
        expect.stringMatching(
          /^WOULD service TeamsMediaBot: environment BotService__ConfigFile=D:\\Data\\TeamsMediaBot\\config\\bot\.json; BotService__NodePath=.+; BotService__ScriptPath=D:\\Apps\\TeamsMediaBot\\bot\\node_modules\\teams-media-bot\\dist\\bot\.js$/,
        ),
        "WOULD service TeamsMediaBot: failure reset= 86400 actions= restart/5000/restart/5000/restart/30000, failureflag 1",
        "WOULD write D:\\Apps\\TeamsMediaBot\\install-manifest.json: install manifest (read by Uninstall-TeamsMediaBot.ps1)",
        "WOULD start TeamsMediaHost: Start-Service",
        "WOULD start TeamsMediaBot: Start-Service",
      ]);
      // The public media port is not the machine's: it is in the blob, not in the firewall.
      expect(planned.join("\n")).not.toContain("22210");
      expect(out.at(-1)).toBe(
        `dry run: all checks passed, ${planned.length} actions planned, nothing changed`,
      );
    },
    RUN_MS,
  );

  it(
    "names every machine fault at once and exits 1: cores, Windows, runtimes, Node 18, services, a busy port, a missing setting, the bundle",
    async () => {
      const busy = await listen("127.0.0.1");
      try {
        const run = await install({
          values: { BOT_OPS_PORT: String(portOf(busy)), BOT_TENANT_ID: "" },
          machine: {
            AssumeCores: "1",
            AssumePhysicalCores: "1",
            AssumeWindowsCaption: "Microsoft Windows 11 Pro",
            AssumeWindowsVersion: "10.0.22631",
            AssumeVcRuntimeVersion: "none",
            AssumeAspNetCoreVersions: "8.0.11",
            AssumePwshVersion: "none",
            AssumeNodeVersion: "v18.19.0",
            AssumeInstalledServices: "TeamsMediaHost",
          },
          bundleDir: path.join(work, "no-such-bundle"),
        });
        expect(run.code).toBe(1);
        expect(failures(run)).toEqual([
          'FAIL windows: the media platform runs on Windows Server 2019 (10.0.17763) or later; this is "Microsoft Windows 11 Pro" (10.0.22631), not a Server edition',
          "FAIL cores: the media platform refuses machines with fewer than 2 cores (MediaPlatform.MinNumberOfCoresRequired); this one has 1",
          "FAIL vcruntime: the Visual C++ x64 runtime is not installed (HKLM:\\SOFTWARE\\Microsoft\\VisualStudio\\14.0\\VC\\Runtimes\\x64 Installed=1); the media platform needs the latest: https://aka.ms/vs/17/release/vc_redist.x64.exe",
          "FAIL dotnet: the ASP.NET Core 10 runtime (Microsoft.AspNetCore.App 10.x, x64) is not installed (found: 8.0.11); the media host needs it: https://dotnet.microsoft.com/download/dotnet/10.0",
          "FAIL pwsh: PowerShell 7 (pwsh.exe) is not on PATH; the platform's MediaPlatformStartupScript.bat runs it to register its performance counters: https://aka.ms/powershell",
          expect.stringMatching(/^FAIL node: Node\.js 20 or later is required, found v18\.19\.0 \(.+\)$/),
          "FAIL settings: BOT_TENANT_ID is required",
          "FAIL services: already installed: TeamsMediaHost; run Uninstall-TeamsMediaBot.ps1 -KeepConfig first",
          `FAIL port: TCP ${portOf(busy)} (BOT_OPS_PORT, operations) on 127.0.0.1 is in use`,
          `FAIL bundle: missing in ${path.join(work, "no-such-bundle")}: host\\TeamsMediaBridge.Host.exe, host\\Microsoft.Skype.Bots.Media.dll, host\\MediaPlatformStartupScript.bat, bot-service\\TeamsMediaBot.Service.exe, bot\\node_modules\\teams-media-bot\\dist\\bot.js`,
        ]);
        expect(lines(run).at(-1)).toBe("not installing: 10 check(s) failed");
        expect(lines(run).some((line) => line.startsWith("WOULD"))).toBe(false);
      } finally {
        busy.close();
      }
    },
    RUN_MS,
  );

  it(
    "refuses 2 logical processors on 1 physical core (D2_v3) unless -AllowFewerPhysicalCores, and Windows Server 2016",
    async () => {
      const machine = {
        AssumeCores: "2",
        AssumePhysicalCores: "1",
        AssumeWindowsCaption: "Microsoft Windows Server 2016 Datacenter",
        AssumeWindowsVersion: "10.0.14393",
      };
      const refused = await install({ machine });
      expect(refused.code).toBe(1);
      expect(failures(refused)).toEqual([
        'FAIL windows: the media platform runs on Windows Server 2019 (10.0.17763) or later; this is "Microsoft Windows Server 2016 Datacenter" (10.0.14393)',
        "FAIL cores: 2 logical processors but 1 physical core: users of the platform report that it needs 2 physical cores (Azure D2_v3 fails, D4_v3 works); -AllowFewerPhysicalCores installs anyway",
      ]);
      const allowed = await install({
        machine: {
          ...machine,
          AssumeWindowsVersion: "10.0.17763",
          AssumeWindowsCaption: "Microsoft Windows Server 2019 Datacenter",
        },
        extra: ["-AllowFewerPhysicalCores"],
      });
      expect(failures(allowed)).toEqual([]);
      expect(lines(allowed)).toContain(
        "WARN cores: 2 logical processors but 1 physical core: users of the platform report that it needs 2 physical cores (Azure D2_v3 fails, D4_v3 works); -AllowFewerPhysicalCores installs anyway",
      );
      expect(allowed.code).toBe(0);
    },
    RUN_MS * 2,
  );

  it(
    "refuses a certificate whose names do not match BOT_MEDIA_FQDN",
    async () => {
      const wrong = await makeCertificate(work, "wrong-san", {
        commonName: "bot.contoso.example",
        altNames: ["bot.contoso.example", "*.other.example"],
        ...validFor(365),
      });
      const run = await install({
        values: { BOT_MEDIA_CERT_THUMBPRINT: wrong.thumbprint },
        certificate: wrong.pfx,
      });
      expect(run.code).toBe(1);
      expect(failures(run)).toEqual([
        `FAIL certificate: ${wrong.thumbprint} is issued to bot.contoso.example, *.other.example; neither its subject nor a DNS SAN matches BOT_MEDIA_FQDN ${FQDN}`,
      ]);
    },
    RUN_MS,
  );

  it(
    "accepts a wildcard SAN for the FQDN's domain",
    async () => {
      const wildcard = await makeCertificate(work, "wildcard", {
        commonName: "contoso.example",
        altNames: ["*.contoso.example"],
        ...validFor(200),
      });
      const run = await install({
        values: { BOT_MEDIA_CERT_THUMBPRINT: wildcard.thumbprint },
        certificate: wildcard.pfx,
      });
      expect(failures(run)).toEqual([]);
      expect(run.code).toBe(0);
    },
    RUN_MS,
  );

  it(
    "refuses an expired certificate",
    async () => {
      const expired = await makeCertificate(work, "expired", {
        commonName: FQDN,
        altNames: [FQDN],
        notBefore: new Date("2024-01-01T00:00:00Z"),
        notAfter: new Date("2025-01-01T00:00:00Z"),
      });
      const run = await install({
        values: { BOT_MEDIA_CERT_THUMBPRINT: expired.thumbprint },
        certificate: expired.pfx,
      });
      expect(run.code).toBe(1);
      expect(failures(run)).toEqual([`FAIL certificate: ${expired.thumbprint} expired on 2025-01-01`]);
    },
    RUN_MS,
  );

  it(
    "refuses a certificate without its private key, and one whose thumbprint is not the configured one",
    async () => {
      const noKey = await install({ certificate: good.pem });
      expect(noKey.code).toBe(1);
      expect(failures(noKey)).toEqual([
        `FAIL certificate: ${good.thumbprint} has no private key: the media platform needs it (import the PFX with its key into LocalMachine\\My)`,
      ]);
      const other = "AB".repeat(20);
      const mismatch = await install({ values: { BOT_MEDIA_CERT_THUMBPRINT: other } });
      expect(mismatch.code).toBe(1);
      expect(failures(mismatch)).toEqual([
        `FAIL certificate: file ${good.pfx} has thumbprint ${good.thumbprint}, not BOT_MEDIA_CERT_THUMBPRINT ${other}`,
      ]);
    },
    RUN_MS * 2,
  );

  it(
    "writes a bot.json the bot's own loader accepts and an appsettings.json with the host's settings (-PreviewConfigDir)",
    async () => {
      const preview = path.join(work, "preview");
      const handlerOptions = { "player:C:/bot/hello.wav": { loop: false } };
      const run = await install({
        values: {
          BOT_MEDIA_HANDLERS: "echo,player:C:/bot/hello.wav",
          BOT_MEDIA_HANDLER_OPTIONS: handlerOptions,
          BOT_MAX_CALLS: "50",
          BOT_BRIDGE_MAX_SESSIONS: "60",
        },
        extra: ["-PreviewConfigDir", preview],
      });
      expect(failures(run)).toEqual([]);
      expect(run.code).toBe(0);
      const botFile = await readFile(path.join(preview, "bot.json"));
      const hostFile = await readFile(path.join(preview, "appsettings.json"));
      // No BOM: JSON.parse in the bot refuses one.
      expect(botFile[0]).toBe(0x7b);
      expect(hostFile[0]).toBe(0x7b);

      const config = loadConfig(readRawConfig({ BOT_CONFIG_FILE: path.join(preview, "bot.json") }));
      expect(config.appId).toBe("11111111-2222-3333-4444-555555555555");
      expect(config.port).toBe(ports.bot);
      expect(config.ops.port).toBe(ports.ops);
      expect(config.maxCalls).toBe(50);
      expect(config.media.fqdn).toBe(FQDN);
      expect(config.media.publicPort).toBe(22210);
      expect(config.media.recordingsDir).toBe("D:\\Data\\TeamsMediaBot\\recordings");
      expect(config.media.handlers).toEqual(["echo", "player:C:/bot/hello.wav"]);
      expect(config.media.handlerOptions).toEqual([undefined, { loop: false }]);
      expect(config.bridge.url).toBe(`ws://127.0.0.1:${ports.bridge}/bridge`);

      const host = JSON.parse(hostFile.toString("utf8")) as Record<string, string>;
      expect(host).toEqual({
        BOT_APP_ID: "11111111-2222-3333-4444-555555555555",
        BOT_MEDIA_FQDN: FQDN,
        BOT_MEDIA_PUBLIC_PORT: "22210",
        BOT_MEDIA_INTERNAL_PORT: String(ports.media),
        BOT_MEDIA_PUBLIC_IP: "20.1.2.3",
        BOT_MEDIA_CERT_THUMBPRINT: good.thumbprint,
        BOT_BRIDGE_URL: `ws://127.0.0.1:${ports.bridge}/bridge`,
        BOT_BRIDGE_SECRET: "0123456789abcdef-bridge",
        BOT_BRIDGE_MAX_SESSIONS: "60",
      });
    },
    RUN_MS,
  );
});
