/**
 * RFC 6455 makes a client mask what it sends with a fresh random key so that a script in a
 * browser cannot choose the bytes an intercepting proxy sees on the wire (section 10.3). The
 * bridge is no browser, but the audio it sends is shaped by remote callers, so it keeps that
 * protection wherever a proxy could sit. Where none can (loopback, where the bridge runs next
 * to its media host, or TLS, which hides the bytes anyway) it sends an all-zero key: the wire
 * format is unchanged and every peer accepts it, but neither side has to XOR the payload, and
 * ws no longer copies each outgoing batch into a new buffer to mask it (at 1000 calls, 32 MB/s
 * of short-lived external memory that drove the worker into frequent full GCs).
 */
export function zeroMaskSafe(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === "wss:") return true;
  const host = parsed.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/** ws's generateMask hook: an all-zero masking key (ws then skips masking, see zeroMaskSafe). */
export function zeroMask(mask: Buffer): void {
  mask[0] = 0;
  mask[1] = 0;
  mask[2] = 0;
  mask[3] = 0;
}
