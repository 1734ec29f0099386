import https from "node:https";
import type { AddressInfo } from "node:net";
import express, { type Express } from "express";
import { createLogger, type Logger } from "../../log/logger.js";
import { type AppRegistration, AppRegistry, type RegisteredApp } from "./app-registry.js";
import { requestIds } from "./graph-error.js";
import { createSigningKey, type SigningKey } from "./signing-key.js";
import { createTlsCertificate } from "./tls-certificate.js";
import { createTokenRouter } from "./token-service.js";

export interface GraphEmulatorOptions {
  /** Listen address; 127.0.0.1 by default. */
  host?: string;
  /** 0 (an ephemeral port) by default. */
  port?: number;
  /** Access token lifetime (expires_in), 3599 s by default. */
  tokenLifetimeSeconds?: number;
  /** Folder for the CA certificate file; a fresh temp folder by default. */
  certDirectory?: string;
  /** Apps registered at start. */
  apps?: AppRegistration[];
  logger?: Logger;
}

export class GraphEmulator {
  readonly url: string;
  readonly graphUrl: string;
  readonly notificationOpenIdUrl: string;
  /** PEM of the self-signed server certificate; clients trust it as an extra CA. */
  readonly caCertPem: string;
  readonly caCertPath: string;
  tokenLifetimeSeconds: number;

  private readonly apps = new AppRegistry();

  private constructor(
    private readonly server: https.Server,
    readonly app: Express,
    url: string,
    caCertPem: string,
    caCertPath: string,
    private readonly tokenKey: SigningKey,
    private notificationKey: SigningKey,
    private readonly logger: Logger,
    options: GraphEmulatorOptions,
  ) {
    this.url = url;
    this.graphUrl = `${url}/v1.0`;
    this.notificationOpenIdUrl = `${url}/v1/.well-known/OpenIdConfiguration`;
    this.caCertPem = caCertPem;
    this.caCertPath = caCertPath;
    this.tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 3599;
  }

  static async start(options: GraphEmulatorOptions = {}): Promise<GraphEmulator> {
    const logger = options.logger ?? createLogger({ name: "graph-emulator" });
    const [certificate, tokenKey, notificationKey] = await Promise.all([
      createTlsCertificate(options.certDirectory),
      createSigningKey(),
      createSigningKey(),
    ]);
    const app = express();
    app.disable("x-powered-by");
    const server = https.createServer({ cert: certificate.certPem, key: certificate.keyPem }, app);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    const emulator = new GraphEmulator(
      server,
      app,
      `https://${host}:${address.port}`,
      certificate.certPem,
      certificate.certPath,
      tokenKey,
      notificationKey,
      logger,
      options,
    );
    emulator.mountRoutes();
    for (const registration of options.apps ?? []) emulator.registerApp(registration);
    logger.info({ url: emulator.url }, "graph emulator listening");
    return emulator;
  }

  authorityUrl(tenantId: string): string {
    return `${this.url}/${tenantId}`;
  }

  registerApp(registration: AppRegistration): RegisteredApp {
    return this.apps.register(registration);
  }

  private mountRoutes(): void {
    const app = this.app;
    app.use(requestIds);
    app.get("/v1/.well-known/OpenIdConfiguration", (_req, res) => {
      res.json({
        issuer: "https://api.botframework.com",
        authorization_endpoint: "https://invalid.botframework.com",
        jwks_uri: `${this.url}/v1/.well-known/keys`,
        id_token_signing_alg_values_supported: ["RS256"],
        token_endpoint_auth_methods_supported: ["private_key_jwt"],
      });
    });
    app.get("/v1/.well-known/keys", (_req, res) => {
      res.json({ keys: [this.notificationKey.publicJwk] });
    });
    app.use(
      createTokenRouter({
        baseUrl: () => this.url,
        apps: this.apps,
        tokenKey: () => this.tokenKey,
        tokenLifetimeSeconds: () => this.tokenLifetimeSeconds,
        logger: this.logger,
      }),
    );
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
