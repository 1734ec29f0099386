/**
 * Worker-thread entry of a baseline bot (see baseline-bot-thread.ts): connects a BaselineBot
 * (or a ProtocolEchoBot) and answers the parent's requests for its counters until told to close.
 */
import { parentPort, workerData } from "node:worker_threads";
import { raiseThreadPriority } from "../../src/media/thread-priority.js";
import { BaselineBot } from "./baseline-bot.js";
import type {
  BaselineThreadReply,
  BaselineThreadRequest,
  BaselineThreadSettings,
} from "./baseline-bot-thread.js";
import { ProtocolEchoBot } from "./protocol-echo-bot.js";

const port = parentPort;
if (!port) throw new Error("baseline-bot-worker.ts runs as a worker thread");
const settings = workerData as BaselineThreadSettings;
const reply = (message: BaselineThreadReply) => port.postMessage(message);

// The same thread set-up as the media worker's (media-worker.ts), so only the design differs.
raiseThreadPriority("realtime");
try {
  const bot =
    settings.kind === "protocolEcho"
      ? await ProtocolEchoBot.connect(settings.url, settings.secret ?? "", settings.calls)
      : await BaselineBot.connect(settings.url, settings.kind, settings.calls, settings.layout);
  port.on("message", (request: BaselineThreadRequest) => {
    if (request.type === "counters") {
      reply({
        type: "counters",
        framesReceived: bot.framesReceived,
        framesSent: bot.framesSent,
        framesDropped: bot.framesDropped,
      });
    } else {
      void bot.close().then(() => {
        reply({ type: "closed" });
        port.close();
      });
    }
  });
  reply({ type: "connected", mediaSessionIds: bot instanceof ProtocolEchoBot ? bot.mediaSessionIds : [] });
} catch (error) {
  reply({ type: "failed", message: (error as Error).message });
  port.close();
}
