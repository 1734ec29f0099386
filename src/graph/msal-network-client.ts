import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from "@azure/msal-node";
import { httpsRequest } from "./https-request.js";
import { asUntrustedCertificate, type UntrustedCertificateError } from "./untrusted-certificate.js";

/**
 * msal-node's HTTP transport, replaced so that token requests trust the extra CA (the Graph
 * emulator's self-signed certificate) and share the project's timeout and keep-alive agents.
 * msal expects a parsed JSON body and lower-case header names.
 */
export class MsalNetworkClient implements INetworkModule {
  /**
   * The certificate error of the last request, if it had one: msal turns a failed authority
   * metadata request into a bare endpoints_resolution_error, so the provider asks here why.
   */
  private certificateFailure: UntrustedCertificateError | undefined;

  constructor(private readonly options: { ca?: string | Buffer; timeoutMs: number }) {}

  /** The certificate error of a request since the last call, cleared by reading it. */
  takeCertificateFailure(): UntrustedCertificateError | undefined {
    const failure = this.certificateFailure;
    this.certificateFailure = undefined;
    return failure;
  }

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
    options: NetworkRequestOptions | undefined,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    let response: Awaited<ReturnType<typeof httpsRequest>>;
    try {
      response = await httpsRequest({
        url,
        method,
        headers: options?.headers,
        body: method === "POST" ? (options?.body ?? "") : undefined,
        timeoutMs:
          timeout && timeout > 0 ? Math.min(timeout, this.options.timeoutMs) : this.options.timeoutMs,
        ca: this.options.ca,
      });
    } catch (error) {
      const untrusted = asUntrustedCertificate(error, url);
      if (untrusted === undefined) throw error;
      this.certificateFailure = untrusted;
      throw untrusted;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
    }
    let body: T;
    try {
      body = JSON.parse(response.body.toString("utf8")) as T;
    } catch {
      // The URL may hold the tenant but never a secret; the body is not echoed (it could).
      throw new Error(
        `identity endpoint ${new URL(url).pathname} answered HTTP ${response.status} with a body that is not JSON`,
      );
    }
    return { headers, body, status: response.status };
  }
}
