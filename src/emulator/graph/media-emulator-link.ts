import { ConfigError } from "../../config/config-error.js";
import type { Logger } from "../../log/logger.js";
import type { EmulatedCall } from "./emulated-call.js";

/** Where a standalone Graph emulator finds the media platform emulator (its control surface). */
export interface MediaEmulatorLink {
  /** http://host:port of the media emulator (its bridge port). */
  url: string;
  /** Its bearer secret (the media emulator's BOT_BRIDGE_SECRET). */
  secret: string;
}

/** Extra time the HTTP request may take beyond the connect-media wait itself. */
const REQUEST_SLACK_MS = 5000;

/**
 * The establishWhen of a Graph emulator wired to a media emulator in another process, as
 * src/demo wires the two in one: an answered (or created) call becomes established only once the
 * media session its blob names exists there and connects, through POST /control/connect-media.
 * When it does not within the media timeout, or the media emulator cannot be reached, the call
 * stays establishing and then ends 410/301005, as on the real service. A call with
 * service-hosted media has no session for the bot's platform to connect and is established.
 */
export function establishWhenMediaConnects(
  link: MediaEmulatorLink,
  mediaTimeoutMs: () => number,
): (call: EmulatedCall) => Promise<boolean> {
  return async (call) => {
    const mediaSessionId = call.mediaSession?.mpMediaSessionId;
    if (!mediaSessionId) return true;
    const since = call.answeredAt ?? call.createdAt;
    const timeoutMs = Math.max(0, Math.min(2 ** 31 - 1, since + mediaTimeoutMs() - Date.now()));
    const response = await fetch(`${link.url}/control/connect-media`, {
      method: "POST",
      headers: { authorization: `Bearer ${link.secret}`, "content-type": "application/json" },
      body: JSON.stringify({ mediaSessionId, timeoutMs }),
      signal: AbortSignal.timeout(timeoutMs + REQUEST_SLACK_MS),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`media emulator answered connect-media ${response.status}: ${text}`);
    return (JSON.parse(text) as { connected?: unknown }).connected === true;
  };
}

/**
 * Checks the wiring at startup: a wrong secret is a startup error (a ConfigError); an unreachable media
 * emulator (it may start later) and one that connects media by itself are logged.
 */
export async function checkMediaEmulatorLink(link: MediaEmulatorLink, logger: Logger): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`${link.url}/control/stats`, {
      headers: { authorization: `Bearer ${link.secret}` },
      signal: AbortSignal.timeout(2000),
    });
  } catch (error) {
    logger.warn(
      { url: link.url, err: (error as Error).message },
      "media emulator not reachable yet: answered calls are established once it is up and their media connects",
    );
    return;
  }
  if (response.status === 401)
    throw new ConfigError(
      "GRAPH_EMULATOR_MEDIA_SECRET",
      `the media emulator at ${link.url} refused it (401): use its BOT_BRIDGE_SECRET`,
    );
  if (!response.ok)
    throw new ConfigError(
      "GRAPH_EMULATOR_MEDIA_URL",
      `${link.url}/control/stats answered ${response.status}: is it the media emulator?`,
    );
  const stats = (await response.json()) as { autoConnectMediaMs?: unknown };
  if (typeof stats.autoConnectMediaMs === "number") {
    logger.warn(
      { url: link.url, autoConnectMediaMs: stats.autoConnectMediaMs },
      "the media emulator connects every session's media by itself; start it with EMULATOR_MEDIA_CONNECT_MS=never so only answered calls connect",
    );
  }
}
