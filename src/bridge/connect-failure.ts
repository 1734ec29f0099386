/**
 * Why a dial to the media host failed, in words an operator can act on. A host that is down
 * and one that refuses BOT_BRIDGE_SECRET used to look the same: an info line "bridge
 * disconnected" every few seconds, forever.
 */

/**
 * unreachable: nothing answers (refused, no route, no name, timed out);
 * auth_refused: the host answered the upgrade 401/403 (BOT_BRIDGE_SECRET is not the host's);
 * http_refused: the host answered the upgrade with another status (e.g. 503 while restarting);
 * tls: the TLS handshake of a wss:// URL failed (untrusted or mismatched certificate);
 * lost: an open connection went away, or a failure none of the above.
 */
export type ConnectFailureCause = "unreachable" | "auth_refused" | "http_refused" | "tls" | "lost";

export interface ConnectFailure {
  cause: ConnectFailureCause;
  /** The error's code (ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT...) or "HTTP 401". */
  code: string;
  /** One line: what failed, without secrets (the secret is only ever in a header). */
  detail: string;
}

const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EADDRNOTAVAIL",
]);

/** A socket error of a dial, classified. */
export function failureOfError(error: Error & { code?: string }): ConnectFailure {
  const code = typeof error.code === "string" ? error.code : "";
  if (UNREACHABLE_CODES.has(code)) return { cause: "unreachable", code, detail: error.message };
  if (/CERT|SSL|TLS|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME_MISMATCH/i.test(code))
    return { cause: "tls", code, detail: error.message };
  // ws's own handshake timeout carries no code.
  if (/handshake has timed out/i.test(error.message))
    return { cause: "unreachable", code: "ETIMEDOUT", detail: error.message };
  return { cause: "lost", code: code || "ERROR", detail: error.message };
}

/** The host answered the WebSocket upgrade with an HTTP status instead of 101. */
export function failureOfStatus(statusCode: number | undefined): ConnectFailure {
  const code = `HTTP ${statusCode ?? "?"}`;
  if (statusCode === 401 || statusCode === 403)
    return {
      cause: "auth_refused",
      code,
      detail: `the media host refused the bridge secret (upgrade answered ${code}): BOT_BRIDGE_SECRET is not the host's`,
    };
  return { cause: "http_refused", code, detail: `upgrade refused with ${code}` };
}

/** The log line's message for a failed dial of this cause. */
export function failureMessage(cause: ConnectFailureCause): string {
  switch (cause) {
    case "unreachable":
      return "cannot reach the media host";
    case "auth_refused":
      return "the media host refused the bridge secret";
    case "http_refused":
      return "the media host refused the bridge connection";
    case "tls":
      return "TLS handshake with the media host failed";
    case "lost":
      return "bridge connection to the media host failed";
  }
}
