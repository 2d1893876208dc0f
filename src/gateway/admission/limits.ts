import { getHeapStatistics } from "node:v8";
import {
  BadRequestError,
  GatewayError,
  PayloadTooLargeError,
  ServiceUnavailableError,
} from "../../errors.js";

/** 429 with `retry-after`: a per-key limit was reached. */
export class RateLimitedError extends GatewayError {
  constructor(message: string, retryAfterSecs: number, code: string) {
    super(message, {
      status: 429,
      type: "rate_limit_error",
      code,
      headers: { "retry-after": String(Math.max(1, Math.ceil(retryAfterSecs))) },
    });
  }
}

/** Open streams per key; `acquire` returns the release function. */
export class StreamCounter {
  private readonly open = new Map<string, number>();

  acquire(key: string, max: number): () => void {
    const n = this.open.get(key) ?? 0;
    if (max > 0 && n >= max) {
      throw new RateLimitedError(
        `Too many open requests: at most ${max} at once for this key.`,
        1,
        "concurrency_limit_exceeded",
      );
    }
    this.open.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left <= 0) this.open.delete(key);
      else this.open.set(key, left);
    };
  }
}

/**
 * Sheds load (503 with `retry-after`) while the event loop lags or the heap is nearly full, so
 * the gateway keeps serving the requests it has instead of failing all of them. Lag is measured
 * by a timer that should fire every 50 ms; the worst lag of the last second counts.
 */
export class OverloadGuard {
  private worstLagMs = 0;
  private worstAt = 0;
  private timer: NodeJS.Timeout;

  constructor(
    private readonly maxLagMs: number,
    private readonly maxHeapRatio: number,
    private readonly heapRatio: () => number = () => {
      const h = getHeapStatistics();
      return h.used_heap_size / h.heap_size_limit;
    },
  ) {
    this.timer = this.arm(performance.now());
  }

  private arm(from: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const now = performance.now();
      const lag = Math.max(0, now - from - SAMPLE_MS);
      if (lag >= this.worstLagMs || now - this.worstAt > 1000) {
        this.worstLagMs = lag;
        this.worstAt = now;
      }
      this.timer = this.arm(now);
    }, SAMPLE_MS);
    timer.unref();
    return timer;
  }

  /** Throws {@link ServiceUnavailableError} when overloaded. */
  check(): void {
    const lag = performance.now() - this.worstAt <= 1000 ? this.worstLagMs : 0;
    if (lag > this.maxLagMs) {
      throw new ServiceUnavailableError(
        `The gateway is overloaded (event loop delay ${Math.round(lag)} ms); retry shortly.`,
        2,
        undefined,
        "event_loop_lag",
      );
    }
    if (this.heapRatio() > this.maxHeapRatio) {
      throw new ServiceUnavailableError(
        "The gateway is low on memory; retry shortly.",
        5,
        undefined,
        "low_memory",
      );
    }
  }

  close(): void {
    clearTimeout(this.timer);
  }
}

const SAMPLE_MS = 50;

/** The characters of every message's text (what a prompt-size limit is about). */
function promptChars(messages: readonly { content?: unknown }[]): number {
  let n = 0;
  for (const m of messages) {
    if (typeof m.content === "string") n += m.content.length;
    else if (Array.isArray(m.content)) n += JSON.stringify(m.content).length;
  }
  return n;
}

/** Refuses too many messages (400) or too large a prompt (413). */
export function assertPromptWithinLimits(
  messages: readonly { content?: unknown }[],
  limits: { maxMessages: number; maxPromptChars: number },
): void {
  if (messages.length > limits.maxMessages) {
    throw new BadRequestError(
      `Too many messages: ${messages.length} (at most ${limits.maxMessages}).`,
      "messages",
      "too_many_messages",
    );
  }
  if (promptChars(messages) > limits.maxPromptChars) {
    throw new PayloadTooLargeError(
      `The prompt is too large (at most ${limits.maxPromptChars} characters).`,
      "messages",
    );
  }
}
