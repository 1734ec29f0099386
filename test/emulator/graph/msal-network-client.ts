import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from "@azure/msal-node";
import { httpsRequest } from "../../../src/graph/https-request.js";

/**
 * An msal-node network client that trusts an extra CA (the emulator's self-signed certificate)
 * and records every URL msal asks for. msal's built-in client uses global fetch, which only
 * trusts NODE_EXTRA_CA_CERTS read at process start.
 */
export class RecordingMsalNetworkClient implements INetworkModule {
  readonly calls: { method: string; url: string; body?: string }[] = [];

  /** `rewrite` maps a URL msal asks for to the one requested (e.g. login host -> emulator). */
  constructor(
    private readonly ca: string,
    private readonly rewrite: (url: string) => string = (url) => url,
  ) {}

  sendGetRequestAsync<T>(
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    return this.send<T>("GET", url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>("POST", url, options);
  }

  private async send<T>(
    method: "GET" | "POST",
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    this.calls.push({ method, url, ...(options?.body === undefined ? {} : { body: options.body }) });
    const response = await httpsRequest({
      url: this.rewrite(url),
      method,
      headers: options?.headers ?? {},
      ...(options?.body === undefined ? {} : { body: options.body }),
      timeoutMs: timeout ?? 10_000,
      ca: this.ca,
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    return { status: response.status, headers, body: JSON.parse(response.body.toString("utf8")) as T };
  }
}
