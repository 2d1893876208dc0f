import type { ChatHandler } from "../../src/worker/handler.js";
import { PoisonMessageError } from "../../src/worker/handler.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";

const echo = echoHandler();

/** Always poison: like a handler service answering 422. */
export const poisonHandler: ChatHandler = {
  name: "poison",
  handle: async () => {
    throw new PoisonMessageError("payload version not supported (422)");
  },
};

/** Waits `ms` before answering (an upstream that thinks a while). */
export function slowStartHandler(name: string, ms: number): ChatHandler {
  return {
    name,
    handle: async (cmd, ctx) => {
      await new Promise((r) => setTimeout(r, ms));
      return echo.handle(cmd, ctx);
    },
  };
}

/** Streams one word, then fails for good. */
export const midStreamFailure: ChatHandler = {
  name: "midfail",
  handle: async (_cmd, ctx) => {
    await ctx.emit({ content: "partial " });
    throw new PoisonMessageError("handler broke mid-stream");
  },
};

/** Fails with a transient error on the first `failures` attempts, then echoes. */
export function flakyHandler(name: string, failures: number): ChatHandler {
  return {
    name,
    handle: async (cmd, ctx) => {
      if (ctx.attempt <= failures) throw new Error(`upstream 503 on attempt ${ctx.attempt}`);
      return echo.handle(cmd, ctx);
    },
  };
}

/** Echo that counts its side effects per stream id. */
export function countingHandler(name: string, counts: Map<string, number>): ChatHandler {
  return {
    name,
    handle: async (cmd, ctx) => {
      counts.set(cmd.stream_id, (counts.get(cmd.stream_id) ?? 0) + 1);
      return echo.handle(cmd, ctx);
    },
  };
}

/** Echo that first waits until the test opens the gate; `entered` resolves when it is waiting. */
export function gateHandler(name: string) {
  let open!: () => void;
  let entered!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const enteredP = new Promise<void>((r) => (entered = r));
  const handler: ChatHandler = {
    name,
    handle: async (cmd, ctx) => {
      entered();
      await gate;
      return echo.handle(cmd, ctx);
    },
  };
  return { handler, open: () => open(), entered: enteredP };
}
