import { metrics } from "./metrics.js";

/** One point of the status page's sparklines. */
export interface SeriesPoint {
  at: string;
  /** API requests per second over the interval. */
  requestsPerSec: number;
  /** Mean time to first chunk of the streams that started in the interval (null: none). */
  ttftMs: number | null;
}

/**
 * Throughput and time-to-first-chunk over time, from the metrics' own running totals (so the
 * page agrees with `/metrics`): a point per sampling round, the last `size` kept.
 */
export class StatusSeries {
  private readonly points: SeriesPoint[] = [];
  private last: { t: number; requests: number; firstChunks: number; sum: number } | null = null;

  constructor(private readonly size = 60) {}

  async record(now = Date.now()): Promise<void> {
    const t = await metrics.totals();
    const prev = this.last;
    this.last = {
      t: now,
      requests: t.requests,
      firstChunks: t.firstChunks,
      sum: t.firstChunkMsSum,
    };
    if (!prev || now <= prev.t) return;
    const chunks = t.firstChunks - prev.firstChunks;
    this.points.push({
      at: new Date(now).toISOString(),
      requestsPerSec: ((t.requests - prev.requests) * 1000) / (now - prev.t),
      ttftMs: chunks > 0 ? (t.firstChunkMsSum - prev.sum) / chunks : null,
    });
    if (this.points.length > this.size) this.points.shift();
  }

  list(): SeriesPoint[] {
    return [...this.points];
  }
}
