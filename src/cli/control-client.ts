/**
 * The command-line tool's client of the bot's calls API (docs/calls-api.md): the bot's ops URL,
 * the bearer token from a file or BOT_CONTROL_TOKEN, and one JSON request at a time. Every
 * failure is a ControlClientError whose message is one line for the user.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { Option } from "commander";
import { DEFAULTS } from "../config/config.js";

export const DEFAULT_BOT_URL = `http://127.0.0.1:${DEFAULTS.opsPort}`;

export class ControlClientError extends Error {
  constructor(
    message: string,
    /** The HTTP status of the bot's answer; undefined when there was none. */
    readonly status?: number,
    /** The bot's error code (unknown_call, invalid_request...). */
    readonly code?: string,
  ) {
    super(message);
    this.name = "ControlClientError";
  }
}

export interface ControlFlags {
  botUrl: string;
  tokenFile?: string;
}

/** --bot-url and --token-file, on every command that talks to the calls API. */
export function controlOptions(): Option[] {
  return [
    new Option("--bot-url <url>", "the bot's operational listener (BOT_OPS_HOST:BOT_OPS_PORT)").default(
      DEFAULT_BOT_URL,
    ),
    new Option("--token-file <file>", "file holding BOT_CONTROL_TOKEN (else the BOT_CONTROL_TOKEN variable)"),
  ];
}

/** The token from --token-file, else BOT_CONTROL_TOKEN; never taken as a plain argument. */
export function controlToken(flags: ControlFlags, env: NodeJS.ProcessEnv = process.env): string {
  if (flags.tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.tokenFile, "utf8");
    } catch (error) {
      throw new ControlClientError(
        `cannot read --token-file ${flags.tokenFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    const token = text.replace(/^\uFEFF/, "").trim();
    if (token === "") throw new ControlClientError(`--token-file ${flags.tokenFile} is empty`);
    return token;
  }
  const token = env.BOT_CONTROL_TOKEN?.trim();
  if (!token) throw new ControlClientError("no token: set BOT_CONTROL_TOKEN or pass --token-file <file>");
  return token;
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; graph?: { code?: unknown } };
}

export class ControlClient {
  private readonly base: URL;

  constructor(
    botUrl: string,
    private readonly token: string,
    private readonly timeoutMs = 30_000,
  ) {
    try {
      this.base = new URL(botUrl);
    } catch {
      throw new ControlClientError(`--bot-url ${JSON.stringify(botUrl)} is not a URL`);
    }
    if (this.base.protocol !== "http:" && this.base.protocol !== "https:")
      throw new ControlClientError(`--bot-url must be http: or https:, got ${this.base.protocol}`);
  }

  static from(flags: ControlFlags): ControlClient {
    return new ControlClient(flags.botUrl, controlToken(flags));
  }

  /** One request; resolves to the parsed JSON of a 2xx answer, else throws ControlClientError. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, this.base);
    // node:http rather than fetch: fetch refuses some ports outright ("bad port"), an ops port may be one.
    let response: { status: number; text: string };
    try {
      response = await this.send(url, method, body === undefined ? undefined : JSON.stringify(body));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new ControlClientError(`cannot reach the bot at ${this.base.origin}: ${code}`);
    }
    let parsed: unknown;
    try {
      parsed = response.text === "" ? undefined : JSON.parse(response.text);
    } catch {
      parsed = undefined;
    }
    if (response.status >= 200 && response.status < 300) return parsed as T;
    const error = (parsed as ErrorBody | undefined)?.error;
    const code = typeof error?.code === "string" ? error.code : undefined;
    const message = typeof error?.message === "string" ? error.message : `HTTP ${response.status}`;
    throw new ControlClientError(
      `${message} (${code ?? "error"}, HTTP ${response.status})`,
      response.status,
      code,
    );
  }

  private send(
    url: URL,
    method: string,
    body: string | undefined,
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const request = (url.protocol === "https:" ? https : http).request(
        url,
        {
          method,
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(body !== undefined
              ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) }
              : {}),
          },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
          );
          res.on("error", reject);
        },
      );
      request.on("timeout", () =>
        request.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })),
      );
      request.on("error", reject);
      request.end(body);
    });
  }
}
