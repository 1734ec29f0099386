/**
 * An HTTPS request to Graph or the token authority failed because the server's certificate
 * was not accepted. msal reported that as `endpoints_resolution_error` and nothing else, which
 * sent people looking at URLs and tenants instead of at BOT_CA_CERT.
 */

/** Node's codes for a certificate chain it cannot trust. */
const UNTRUSTED_CODES = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
]);

export class UntrustedCertificateError extends Error {
  /** Node's TLS error code, e.g. DEPTH_ZERO_SELF_SIGNED_CERT. */
  readonly code: string;
  /** The origin whose certificate was refused. */
  readonly origin: string;

  constructor(url: string, code: string, cause: Error) {
    const origin = new URL(url).origin;
    super(`${origin}: ${explain(code)} (${code})`, { cause });
    this.name = "UntrustedCertificateError";
    this.code = code;
    this.origin = origin;
  }
}

function explain(code: string): string {
  if (UNTRUSTED_CODES.has(code))
    return "the server's certificate is not trusted: set BOT_CA_CERT to the PEM of the CA that signed it";
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID")
    return "the server's certificate does not name this host: use the host name the certificate was issued for";
  if (code === "CERT_HAS_EXPIRED") return "the server's certificate has expired";
  return "the server's certificate was refused";
}

/** The certificate error `error` is, for a request to `url`; undefined for any other error. */
export function asUntrustedCertificate(error: unknown, url: string): UntrustedCertificateError | undefined {
  if (error instanceof UntrustedCertificateError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== "string") return undefined;
  if (!UNTRUSTED_CODES.has(code) && code !== "ERR_TLS_CERT_ALTNAME_INVALID" && code !== "CERT_HAS_EXPIRED")
    return undefined;
  return new UntrustedCertificateError(url, code, error as Error);
}
