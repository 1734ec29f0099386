import { createHash, X509Certificate } from "node:crypto";

/** An application registered with the emulated Azure AD tenant. */
export interface AppRegistration {
  appId: string;
  /** Client secret; at least one of secret or certificatePem is needed to get a token. */
  secret?: string;
  tenantId: string;
  /** Where Graph posts notifications for calls to this app (the bot's calling webhook). */
  callbackUrl: string;
  /** PEM certificate whose key signs client assertions (certificate credentials). */
  certificatePem?: string;
  /** Application permissions carried as `roles` in access tokens. */
  roles?: string[];
  displayName?: string;
}

export const DEFAULT_APP_ROLES = [
  "Calls.AccessMedia.All",
  "Calls.JoinGroupCall.All",
  "Calls.JoinGroupCallAsGuest.All",
  "Calls.Initiate.All",
];

export interface RegisteredApp extends Required<Omit<AppRegistration, "secret" | "certificatePem">> {
  secret?: string;
  certificate?: X509Certificate;
  /** base64url SHA-1 and SHA-256 thumbprints (x5t, x5t#S256 in client assertion headers). */
  x5t?: string;
  x5tS256?: string;
}

export class AppRegistry {
  private readonly apps = new Map<string, RegisteredApp>();

  register(registration: AppRegistration): RegisteredApp {
    if (!registration.appId.trim()) throw new Error("registerApp: appId is required");
    if (!registration.tenantId.trim()) throw new Error("registerApp: tenantId is required");
    new URL(registration.callbackUrl); // throws on a malformed URL
    const app: RegisteredApp = {
      appId: registration.appId,
      tenantId: registration.tenantId,
      callbackUrl: registration.callbackUrl,
      roles: registration.roles ?? DEFAULT_APP_ROLES,
      displayName: registration.displayName ?? "Calling Bot",
      ...(registration.secret === undefined ? {} : { secret: registration.secret }),
    };
    if (registration.certificatePem) {
      const certificate = new X509Certificate(registration.certificatePem);
      app.certificate = certificate;
      app.x5t = createHash("sha1").update(certificate.raw).digest("base64url");
      app.x5tS256 = createHash("sha256").update(certificate.raw).digest("base64url");
    }
    this.apps.set(app.appId, app);
    return app;
  }

  get(appId: string): RegisteredApp | undefined {
    return this.apps.get(appId);
  }

  /** The first registered app: the default target of placeIncomingCall. */
  first(): RegisteredApp | undefined {
    return this.apps.values().next().value;
  }

  all(): RegisteredApp[] {
    return [...this.apps.values()];
  }
}
