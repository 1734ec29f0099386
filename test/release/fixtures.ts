/**
 * Fake inputs of the Windows scripts' dry runs: certificate files (made with the selfsigned
 * dependency, PFX with openssl), a settings file from the real template, a fake unzipped bundle,
 * and the facts of a good machine.
 */
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { generate } from "selfsigned";
import { ROOT } from "./pwsh.js";

export const FQDN = "media.contoso.example";
const DAY_MS = 24 * 60 * 60 * 1000;

export interface CertificateFiles {
  /** PFX with the private key (empty password). */
  pfx: string;
  /** PEM certificate alone: no private key. */
  pem: string;
  /** SHA-1 thumbprint, 40 upper-case hex digits (as Windows shows it). */
  thumbprint: string;
}

/** A self-signed certificate named `commonName` with DNS SANs `altNames`, valid in [from, to]. */
export async function makeCertificate(
  dir: string,
  name: string,
  options: { commonName: string; altNames: string[]; notBefore: Date; notAfter: Date },
): Promise<CertificateFiles> {
  const pems = await generate([{ name: "commonName", value: options.commonName }], {
    keySize: 2048,
    algorithm: "sha256",
    notBeforeDate: options.notBefore,
    notAfterDate: options.notAfter,
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "subjectAltName", altNames: options.altNames.map((value) => ({ type: 2 as const, value })) },
    ],
  });
  const pem = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  const pfx = path.join(dir, `${name}.pfx`);
  await writeFile(pem, pems.cert);
  await writeFile(key, pems.private);
  execFileSync("openssl", ["pkcs12", "-export", "-inkey", key, "-in", pem, "-out", pfx, "-passout", "pass:"]);
  const thumbprint = new X509Certificate(pems.cert).fingerprint.replaceAll(":", "").toUpperCase();
  return { pfx, pem, thumbprint };
}

/** Valid from yesterday for `days` days. */
export function validFor(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - DAY_MS), notAfter: new Date(now + days * DAY_MS) };
}

/** A settings file: the real template with the required values (and `overrides`) filled in. */
export async function writeSettings(
  file: string,
  values: Record<string, unknown>,
  install: Record<string, string> = {},
): Promise<string> {
  const template = JSON.parse(
    await readFile(path.join(ROOT, "packaging", "windows", "config", "settings.template.json"), "utf8"),
  ) as { install: Record<string, { value: string }>; settings: Record<string, { value: unknown }> };
  for (const [name, value] of Object.entries(values)) {
    const entry = template.settings[name];
    if (!entry) throw new Error(`no setting ${name} in the template`);
    entry.value = value;
  }
  for (const [name, value] of Object.entries(install)) {
    const entry = template.install[name];
    if (!entry) throw new Error(`no install value ${name} in the template`);
    entry.value = value;
  }
  await writeFile(file, JSON.stringify(template, null, 2));
  return file;
}

/** The settings every good run starts from. */
export function goodValues(thumbprint: string): Record<string, string> {
  return {
    BOT_APP_ID: "11111111-2222-3333-4444-555555555555",
    BOT_APP_SECRET: "not-a-real-secret",
    BOT_TENANT_ID: "contoso.onmicrosoft.com",
    BOT_PUBLIC_URL: "https://bot.contoso.example",
    BOT_MEDIA_FQDN: FQDN,
    BOT_MEDIA_PUBLIC_IP: "20.1.2.3",
    BOT_MEDIA_CERT_THUMBPRINT: thumbprint,
    BOT_BRIDGE_SECRET: "0123456789abcdef-bridge",
  };
}

/** An unzipped bundle with empty stand-ins for the files the installer looks for. */
export async function makeFakeBundle(dir: string): Promise<string> {
  const files = [
    "host/TeamsMediaBridge.Host.exe",
    "host/Microsoft.Skype.Bots.Media.dll",
    "host/MediaPlatformStartupScript.bat",
    "bot-service/TeamsMediaBot.Service.exe",
    "bot/node_modules/teams-media-bot/dist/bot.js",
    "scripts/Install-TeamsMediaBot.ps1",
  ];
  for (const file of files) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), "");
  }
  return dir;
}

/** The facts of a machine that passes every check. */
export const GOOD_MACHINE: Record<string, string> = {
  AssumeWindowsCaption: "Microsoft Windows Server 2022 Datacenter",
  AssumeWindowsVersion: "10.0.20348",
  AssumeCores: "4",
  AssumePhysicalCores: "2",
  AssumeVcRuntimeVersion: "v14.40.33810.00",
  AssumeAspNetCoreVersions: "10.0.1",
  AssumePwshVersion: "7.6.10",
  AssumeNodeVersion: "v20.19.0",
  AssumeInstalledServices: "none",
};

/** -Name value pairs for pwsh -File. */
export function asArguments(parameters: Record<string, string>): string[] {
  return Object.entries(parameters).flatMap(([name, value]) => [`-${name}`, value]);
}

/** A TCP port free on loopback a moment ago (the installer checks it is still free). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The free loopback ports a good install's settings name. */
export interface InstallPorts {
  bot: number;
  ops: number;
  media: number;
  bridge: number;
}

/** What a good install dry run needs: a fake bundle, a media certificate for FQDN, free ports. */
export interface GoodInstall {
  bundle: string;
  certificate: CertificateFiles;
  ports: InstallPorts;
}

/** Lays out a good install's inputs under work (the certificate valid for a year, for FQDN and altNames). */
export async function prepareGoodInstall(
  work: string,
  certificateName: string,
  altNames: string[] = [FQDN],
): Promise<GoodInstall> {
  const bundle = await makeFakeBundle(path.join(work, "bundle"));
  const certificate = await makeCertificate(work, certificateName, {
    commonName: FQDN,
    altNames,
    ...validFor(365),
  });
  const ports = {
    bot: await freePort(),
    ops: await freePort(),
    media: await freePort(),
    bridge: await freePort(),
  };
  return { bundle, certificate, ports };
}

/** goodValues with the install's certificate and ports. */
export function goodInstallValues({ certificate, ports }: GoodInstall): Record<string, string> {
  return {
    ...goodValues(certificate.thumbprint),
    BOT_PORT: String(ports.bot),
    BOT_OPS_PORT: String(ports.ops),
    BOT_MEDIA_INTERNAL_PORT: String(ports.media),
    BOT_BRIDGE_URL: `ws://127.0.0.1:${ports.bridge}/bridge`,
  };
}
