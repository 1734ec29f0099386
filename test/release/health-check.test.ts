/**
 * Test-TeamsMediaBot.ps1 under PowerShell 7 against real loopback stand-ins: an HTTP server
 * answering /readyz as the bot's ops listener does (README "Observability"), TCP listeners for
 * the bridge and media ports, certificate files, and fake service states. Healthy exits 0;
 * a stopped service, a not-ready bot with its reasons, a closed media port or an expired
 * certificate each give their line and exit 1; a certificate near its end warns.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CertificateFiles,
  FQDN,
  freePort,
  goodValues,
  makeCertificate,
  validFor,
  writeSettings,
} from "./fixtures.js";
import { lines, type Run, runScript } from "./pwsh.js";

const RUN_MS = 120_000;

function listening<T extends Server | HttpServer>(server: T): Promise<T> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}
const portOf = (server: Server | HttpServer) => (server.address() as { port: number }).port;

describe("Test-TeamsMediaBot.ps1", () => {
  let work: string;
  let cert: CertificateFiles;
  let ops: HttpServer;
  let bridge: Server;
  let media: Server;
  let readiness: { status: number; body: unknown } = { status: 200, body: { status: "ready" } };

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "tmb-health-"));
    cert = await makeCertificate(work, "media", { commonName: FQDN, altNames: [FQDN], ...validFor(200) });
    ops = await listening(
      createHttpServer((req, res) => {
        if (req.url !== "/readyz") {
          res.writeHead(404).end();
          return;
        }
        res
          .writeHead(readiness.status, { "content-type": "application/json" })
          .end(JSON.stringify(readiness.body));
      }),
    );
    bridge = await listening(createServer((socket) => socket.destroy()));
    media = await listening(createServer((socket) => socket.destroy()));
  }, 60_000);

  afterAll(async () => {
    ops?.close();
    bridge?.close();
    media?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function check(
    options: { services?: string; mediaPort?: number; certificate?: CertificateFiles } = {},
  ): Promise<Run> {
    const certificate = options.certificate ?? cert;
    const settings = await writeSettings(
      path.join(work, `settings-${Math.random().toString(36).slice(2)}.json`),
      {
        ...goodValues(certificate.thumbprint),
        BOT_OPS_PORT: String(portOf(ops)),
        BOT_BRIDGE_URL: `ws://127.0.0.1:${portOf(bridge)}/bridge`,
        BOT_MEDIA_INTERNAL_PORT: String(options.mediaPort ?? portOf(media)),
      },
    );
    return runScript(
      "Test-TeamsMediaBot.ps1",
      [
        "-SettingsFile",
        settings,
        "-CertificateFile",
        certificate.pfx,
        "-AssumeServiceStates",
        options.services ?? "TeamsMediaHost=Running,TeamsMediaBot=Running",
      ],
      RUN_MS,
    );
  }

  it(
    "is healthy when both services run, /readyz is 200, the ports listen and the certificate is valid",
    async () => {
      readiness = { status: 200, body: { status: "ready" } };
      const run = await check();
      expect(run.stderr).toBe("");
      expect(lines(run)).toEqual([
        expect.stringMatching(/^Teams media bot health: settings /),
        "OK   service TeamsMediaHost: Running",
        "OK   service TeamsMediaBot: Running",
        `OK   readyz: http://127.0.0.1:${portOf(ops)}/readyz 200 ready`,
        "OK   bridge: connected (no media_host_* reason in /readyz)",
        `OK   bridge port: TCP ${portOf(bridge)} is listening (the media host)`,
        expect.stringMatching(
          new RegExp(`^OK   certificate: ${cert.thumbprint} for .*\\((199|200) days left\\)$`),
        ),
        `OK   media port: TCP ${portOf(media)} is listening`,
        "healthy",
      ]);
      expect(run.code).toBe(0);
    },
    RUN_MS,
  );

  it(
    "reports a stopped service, /readyz's reasons, the bridge down and a closed media port, and exits 1",
    async () => {
      readiness = {
        status: 503,
        body: {
          status: "not_ready",
          reasons: [
            { reason: "media_host_unreachable", detail: "ws://127.0.0.1:9442/bridge ECONNREFUSED" },
            { reason: "graph_token_unavailable", detail: "https://login.microsoftonline.com invalid_client" },
          ],
        },
      };
      const closed = await freePort();
      const run = await check({
        services: "TeamsMediaHost=Stopped,TeamsMediaBot=Running",
        mediaPort: closed,
      });
      expect(run.code).toBe(1);
      expect(lines(run).filter((l) => l.startsWith("FAIL"))).toEqual([
        "FAIL service TeamsMediaHost: Stopped",
        `FAIL readyz: http://127.0.0.1:${portOf(ops)}/readyz 503 not_ready: media_host_unreachable (ws://127.0.0.1:9442/bridge ECONNREFUSED); graph_token_unavailable (https://login.microsoftonline.com invalid_client)`,
        "FAIL bridge: not usable: media_host_unreachable",
        `FAIL media port: nothing listens on TCP ${closed} (BOT_MEDIA_INTERNAL_PORT): the media platform is not up, calls would stay in establishing`,
      ]);
      expect(lines(run).at(-1)).toBe("unhealthy: 4 failed, 0 warning(s)");
    },
    RUN_MS,
  );

  it(
    "warns under 30 days of certificate and fails an expired one",
    async () => {
      readiness = { status: 200, body: { status: "ready" } };
      const soon = await makeCertificate(work, "soon", {
        commonName: FQDN,
        altNames: [FQDN],
        ...validFor(12),
      });
      const warned = await check({ certificate: soon });
      expect(warned.code).toBe(0);
      expect(lines(warned)).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^WARN certificate: ${soon.thumbprint} expires in (11|12) days \\(\\d{4}-\\d\\d-\\d\\d\\): renew it and update BOT_MEDIA_CERT_THUMBPRINT$`,
          ),
        ),
      );
      expect(lines(warned).at(-1)).toBe("healthy, 1 warning(s)");

      const expired = await makeCertificate(work, "expired", {
        commonName: FQDN,
        altNames: [FQDN],
        notBefore: new Date("2024-01-01T00:00:00Z"),
        notAfter: new Date("2025-01-01T00:00:00Z"),
      });
      const failed = await check({ certificate: expired });
      expect(failed.code).toBe(1);
      expect(lines(failed).filter((l) => l.startsWith("FAIL"))).toEqual([
        `FAIL certificate: ${expired.thumbprint} expired on 2025-01-01`,
      ]);
    },
    RUN_MS * 2,
  );
});
