import { once } from "node:events";
import { BridgeClient } from "../../src/bridge/bridge-client.js";
import { silentLogger } from "../../src/log/logger.js";

/** A worker-side bridge client connected to an emulator (no pings); `cleanups` closes it. */
export async function openBridgeClient(
  url: string,
  secret: string,
  cleanups: (() => Promise<void> | void)[],
): Promise<BridgeClient> {
  const client = new BridgeClient({ url, secret, peer: "test", logger: silentLogger(), pingIntervalMs: 0 });
  cleanups.push(() => client.close());
  const opened = once(client, "open");
  client.connect();
  await opened;
  return client;
}
