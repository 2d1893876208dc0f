/** One failure as the status page lists it. */
export interface FailureRecord {
  /** When it was recorded (ISO 8601). */
  at: string;
  /** `worker`: a handler run that did not complete; `gateway`: a stream that ended failed. */
  source: "worker" | "gateway";
  context: string;
  /** The failure's kind (worker) or error code (gateway). */
  kind: string;
  handler?: string | undefined;
  message: string;
  correlationId?: string | undefined;
  streamId?: string | undefined;
}

/** The last `size` failures, newest first; a fixed-size ring so it costs nothing to keep. */
export class RecentFailures {
  private readonly ring: FailureRecord[] = [];

  constructor(private readonly size: number) {}

  add(f: Omit<FailureRecord, "at">): void {
    this.ring.unshift({ at: new Date().toISOString(), ...f, message: f.message.slice(0, 300) });
    if (this.ring.length > this.size) this.ring.pop();
  }

  list(): FailureRecord[] {
    return [...this.ring];
  }
}
