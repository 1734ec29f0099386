/**
 * The typed channel between the signaling thread and the media worker over a MessagePort.
 * Everything is asynchronous message passing: neither side ever waits on the other's event
 * loop, and a request that gets no answer in time fails instead of hanging its caller.
 */

/** The part of MessagePort / parentPort / Worker this channel uses. */
export interface PortLike {
  postMessage(value: unknown): void;
  on(event: "message", listener: (value: unknown) => void): unknown;
  off(event: "message", listener: (value: unknown) => void): unknown;
}

export type RequestMap<R> = { [K in keyof R]: { params: unknown; result: unknown } };

type Wire =
  | { kind: "request"; id: number; method: string; params: unknown }
  | { kind: "response"; id: number; ok: true; result: unknown }
  | { kind: "response"; id: number; ok: false; error: { name: string; message: string } }
  | { kind: "message"; body: unknown };

export class ChannelError extends Error {
  constructor(
    message: string,
    readonly remoteName?: string,
    /** No answer came in time: the other side may still be doing what was asked. */
    readonly timedOut = false,
  ) {
    super(message);
    this.name = "ChannelError";
  }
}

export type RequestHandler<R extends RequestMap<R>> = <M extends keyof R & string>(
  method: M,
  params: R[M]["params"],
) => Promise<R[M]["result"]>;

/**
 * R: requests this side sends (or serves, on the other end); Out/In: one-way messages this
 * side sends / receives.
 */
export class MediaChannel<R extends RequestMap<R>, Out, In> {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }
  >();
  private readonly listeners: ((message: In) => void)[] = [];
  private handler: RequestHandler<R> | undefined;
  private closed = false;

  constructor(
    private readonly port: PortLike,
    private readonly options: { requestTimeoutMs: number; onBadMessage?: (detail: string) => void },
  ) {
    port.on("message", this.receive);
  }

  request<M extends keyof R & string>(
    method: M,
    params: R[M]["params"],
    timeoutMs?: number,
  ): Promise<R[M]["result"]> {
    if (this.closed) return Promise.reject(new ChannelError(`channel closed; ${method} not sent`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new ChannelError(
            `${method} got no answer within ${timeoutMs ?? this.options.requestTimeoutMs} ms`,
            undefined,
            true,
          ),
        );
      }, timeoutMs ?? this.options.requestTimeoutMs);
      timer.unref();
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.port.postMessage({ kind: "request", id, method, params } satisfies Wire);
    });
  }

  /** Serves the other side's requests (one handler per channel). */
  handle(handler: RequestHandler<R>): void {
    this.handler = handler;
  }

  send(message: Out): void {
    if (!this.closed) this.port.postMessage({ kind: "message", body: message } satisfies Wire);
  }

  onMessage(listener: (message: In) => void): void {
    this.listeners.push(listener);
  }

  /** Fails every pending request with `reason` and stops listening. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.port.off("message", this.receive);
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(new ChannelError(reason));
      this.pending.delete(id);
    }
  }

  private readonly receive = (value: unknown): void => {
    const wire = value as Wire;
    if (wire === null || typeof wire !== "object" || typeof wire.kind !== "string") {
      this.options.onBadMessage?.("not a channel message");
      return;
    }
    switch (wire.kind) {
      case "message":
        for (const listener of this.listeners) listener(wire.body as In);
        return;
      case "response": {
        const entry = this.pending.get(wire.id);
        if (!entry) return; // answered after its timeout
        this.pending.delete(wire.id);
        clearTimeout(entry.timer);
        if (wire.ok) entry.resolve(wire.result);
        else entry.reject(new ChannelError(wire.error.message, wire.error.name));
        return;
      }
      case "request":
        this.serve(wire.id, wire.method, wire.params);
        return;
      default:
        this.options.onBadMessage?.(`unknown kind ${String((wire as { kind: unknown }).kind)}`);
    }
  };

  private serve(id: number, method: string, params: unknown): void {
    const handler = this.handler;
    const answer = handler
      ? Promise.resolve().then(() =>
          handler(method as keyof R & string, params as R[keyof R & string]["params"]),
        )
      : Promise.reject(new Error(`no handler for ${method}`));
    answer.then(
      (result) => {
        if (!this.closed) this.port.postMessage({ kind: "response", id, ok: true, result } satisfies Wire);
      },
      (error: Error) => {
        if (this.closed) return;
        this.port.postMessage({
          kind: "response",
          id,
          ok: false,
          error: { name: error?.name ?? "Error", message: error?.message ?? String(error) },
        } satisfies Wire);
      },
    );
  }
}
