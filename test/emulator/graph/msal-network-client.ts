import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from "@azure/msal-node";
import { MsalNetworkClient } from "../../../src/graph/msal-network-client.js";

/**
 * The project's msal network client (trusting the emulator's CA), wrapped to record every URL
 * msal asks for and optionally send it elsewhere (e.g. the login host -> the emulator).
 */
export class RecordingMsalNetworkClient implements INetworkModule {
  readonly calls: { method: string; url: string; body?: string }[] = [];
  private readonly inner: MsalNetworkClient;

  constructor(
    ca: string,
    private readonly rewrite: (url: string) => string = (url) => url,
  ) {
    this.inner = new MsalNetworkClient({ ca, timeoutMs: 10_000 });
  }

  sendGetRequestAsync<T>(
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    this.record("GET", url, options);
    return this.inner.sendGetRequestAsync<T>(this.rewrite(url), options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    this.record("POST", url, options);
    return this.inner.sendPostRequestAsync<T>(this.rewrite(url), options);
  }

  private record(method: string, url: string, options: NetworkRequestOptions | undefined): void {
    this.calls.push({ method, url, ...(options?.body === undefined ? {} : { body: options.body }) });
  }
}
