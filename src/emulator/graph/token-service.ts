import { randomUUID } from "node:crypto";
import express, { type Request, type Response, type Router } from "express";
import { decodeProtectedHeader, jwtVerify } from "jose";
import type { Logger } from "../../log/logger.js";
import { issueAccessToken } from "./access-tokens.js";
import type { AppRegistry, RegisteredApp } from "./app-registry.js";
import type { SigningKey } from "./signing-key.js";

const GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default";
const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

export interface TokenServiceOptions {
  baseUrl: () => string;
  apps: AppRegistry;
  tokenKey: () => SigningKey;
  tokenLifetimeSeconds: () => number;
  logger: Logger;
}

/** An AADSTS error in Azure AD's response shape. */
function sendAadError(
  res: Response,
  status: number,
  error: string,
  aadsts: number,
  description: string,
  correlationId: string,
): void {
  const traceId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d{3}Z$/, "Z");
  res.status(status).json({
    error,
    error_description: `AADSTS${aadsts}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [aadsts],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
  });
}

/**
 * The slice of Azure AD (login.microsoftonline.com) that msal-node's client-credentials flow
 * uses: instance discovery, the tenant's OpenID configuration and keys, and the v2 token endpoint.
 */
export function createTokenRouter(options: TokenServiceOptions): Router {
  const router = express.Router();
  const { apps, logger } = options;

  const tenantBase = (tenant: string) => `${options.baseUrl()}/${tenant}`;

  router.get("/:tenant/discovery/instance", (req, res) => {
    const host = new URL(options.baseUrl()).host;
    res.json({
      tenant_discovery_endpoint: `${tenantBase(req.params.tenant)}/v2.0/.well-known/openid-configuration`,
      "api-version": "1.1",
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
  });

  router.get("/:tenant/v2.0/.well-known/openid-configuration", (req, res) => {
    const base = tenantBase(req.params.tenant);
    res.json({
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ["query", "fragment", "form_post"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "ver"],
      tenant_region_scope: "EU",
      cloud_instance_name: "microsoftonline.com",
    });
  });

  router.get("/:tenant/discovery/v2.0/keys", (_req, res) => {
    res.json({ keys: [{ ...options.tokenKey().publicJwk, x5t: options.tokenKey().kid }] });
  });

  router.post(
    "/:tenant/oauth2/v2.0/token",
    express.urlencoded({ extended: false, limit: "64kb" }),
    (req, res) =>
      handleToken(req, res).catch((error: unknown) => {
        logger.error({ err: error }, "token endpoint failed");
        if (!res.headersSent) sendAadError(res, 500, "server_error", 90000, "Internal error.", randomUUID());
      }),
  );

  async function handleToken(req: Request, res: Response): Promise<void> {
    const tenant = String(req.params.tenant);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const correlationId = req.get("client-request-id") ?? randomUUID();
    const field = (name: string) => (typeof body[name] === "string" ? (body[name] as string) : undefined);
    const grantType = field("grant_type");
    if (grantType !== "client_credentials") {
      sendAadError(
        res,
        400,
        "unsupported_grant_type",
        70003,
        `The app requested an unsupported grant type '${grantType ?? ""}'; only client_credentials is emulated.`,
        correlationId,
      );
      return;
    }
    const clientId = field("client_id");
    const app = clientId ? apps.get(clientId) : undefined;
    if (!clientId || !app) {
      sendAadError(
        res,
        401,
        "invalid_client",
        700016,
        `Application with identifier '${clientId ?? ""}' was not found in the directory '${tenant}'.`,
        correlationId,
      );
      return;
    }
    if (tenant !== app.tenantId && tenant !== "organizations") {
      sendAadError(
        res,
        400,
        "unauthorized_client",
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
        correlationId,
      );
      return;
    }
    const credentialError = await checkCredential(app, body, `${tenantBase(tenant)}/oauth2/v2.0/token`);
    if (credentialError) {
      logger.info({ appId: app.appId, reason: credentialError.code }, "token request refused");
      sendAadError(res, 401, "invalid_client", credentialError.code, credentialError.message, correlationId);
      return;
    }
    const scopes = (field("scope") ?? "").split(" ").filter(Boolean);
    if (scopes.length !== 1 || scopes[0] !== GRAPH_DEFAULT_SCOPE) {
      sendAadError(
        res,
        400,
        "invalid_scope",
        1002012,
        `The provided value for scope '${scopes.join(" ")}' is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI); this emulator serves only ${GRAPH_DEFAULT_SCOPE}.`,
        correlationId,
      );
      return;
    }
    const lifetime = options.tokenLifetimeSeconds();
    const accessToken = await issueAccessToken(options.tokenKey(), app, lifetime);
    res.setHeader("Cache-Control", "no-store, no-cache");
    res.json({
      token_type: "Bearer",
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: accessToken,
    });
  }

  return router;
}

async function checkCredential(
  app: RegisteredApp,
  body: Record<string, unknown>,
  tokenEndpoint: string,
): Promise<{ code: number; message: string } | undefined> {
  if (typeof body.client_secret === "string") {
    if (app.secret !== undefined && body.client_secret === app.secret) return undefined;
    return {
      code: 7000215,
      message: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.appId}'.`,
    };
  }
  if (typeof body.client_assertion === "string") {
    if (body.client_assertion_type !== CLIENT_ASSERTION_TYPE) {
      return { code: 7000227, message: `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}.` };
    }
    if (!app.certificate) {
      return { code: 700027, message: `No certificate credential is registered for app '${app.appId}'.` };
    }
    return verifyClientAssertion(app, body.client_assertion, tokenEndpoint);
  }
  return {
    code: 7000218,
    message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  };
}

async function verifyClientAssertion(
  app: RegisteredApp,
  assertion: string,
  tokenEndpoint: string,
): Promise<{ code: number; message: string } | undefined> {
  try {
    const header = decodeProtectedHeader(assertion);
    const thumbprint = header["x5t#S256"] ?? header.x5t;
    if (thumbprint !== app.x5tS256 && thumbprint !== app.x5t) {
      return {
        code: 700027,
        message: `Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${String(thumbprint)}']`,
      };
    }
    const { payload } = await jwtVerify(assertion, app.certificate?.publicKey as never, {
      algorithms: ["RS256", "PS256"],
      audience: tokenEndpoint,
      issuer: app.appId,
      subject: app.appId,
      // Azure AD allows 5 minutes of clock skew; msal rounds nbf to the nearest second.
      clockTolerance: 300,
    });
    if (payload.exp === undefined) return { code: 700024, message: "Client assertion lacks exp." };
    return undefined;
  } catch (error) {
    return {
      code: 700027,
      message: `Client assertion failed signature validation or claim checks: ${(error as Error).message}.`,
    };
  }
}
