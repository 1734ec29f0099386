/**
 * What to answer when reading a notification body failed: body-parser's errors (which carry a
 * `type`) and the decompressor's (which do not) mapped to a status, a reason (the error code in
 * the body and the metric's label) and a precise message. Undefined: not a body problem, a bug.
 */
import type { Request } from "express";

/** The Content-Encoding values the JSON body parser decodes (Node 20's zlib has no zstd). */
export const SUPPORTED_CONTENT_ENCODINGS = "gzip, deflate, br";

export interface BodyRefusal {
  status: number;
  reason: string;
  message: string;
  /** Response headers that tell the client what would be accepted. */
  headers?: Record<string, string>;
}

interface BodyError {
  type?: unknown;
  status?: unknown;
  code?: unknown;
  message?: unknown;
}

/** A client-chosen header value, short and printable, for messages. */
function quoted(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, "?");
  return JSON.stringify(printable.length > 40 ? `${printable.slice(0, 40)}...` : printable);
}

export function bodyReadRefusal(
  error: unknown,
  req: Request,
  bodyLimitBytes: number,
): BodyRefusal | undefined {
  if (error === null || typeof error !== "object") return undefined;
  const { type, status, code, message } = error as BodyError;
  const contentEncoding = (req.headers["content-encoding"] ?? "identity").trim().toLowerCase() || "identity";
  const compressed = contentEncoding !== "identity";
  switch (type) {
    case "entity.too.large":
      return {
        status: 413,
        reason: "body_too_large",
        message: `body exceeds ${bodyLimitBytes} bytes${compressed ? " once decompressed" : ""}`,
      };
    case "entity.parse.failed":
      return { status: 400, reason: "malformed_json", message: "body is not valid JSON" };
    case "encoding.unsupported":
      // RFC 9110 15.5.16: a 415 for a content coding names the codings accepted.
      return {
        status: 415,
        reason: "unsupported_content_encoding",
        message: `Content-Encoding ${quoted(contentEncoding)} is not supported (use ${SUPPORTED_CONTENT_ENCODINGS} or none)`,
        headers: { "Accept-Encoding": SUPPORTED_CONTENT_ENCODINGS },
      };
    case "charset.unsupported": {
      const charset = (error as { charset?: unknown }).charset;
      return {
        status: 415,
        reason: "unsupported_charset",
        message: `charset ${quoted(typeof charset === "string" ? charset : "?")} is not supported (use utf-8)`,
      };
    }
    case "request.aborted":
    case "request.size.invalid":
      return { status: 400, reason: "incomplete_body", message: "request body incomplete" };
  }
  // zlib's errors (Z_DATA_ERROR, Z_BUF_ERROR, brotli's ERR_*) reach here with no type; body-parser
  // has set their status to 400.
  if (compressed && type === undefined && status === 400 && typeof code === "string") {
    const why = typeof message === "string" && message !== "" ? `${message} (${code})` : code;
    return {
      status: 400,
      reason: "bad_content_encoding",
      message: `body is not valid ${contentEncoding}: ${why}`,
    };
  }
  return undefined;
}
