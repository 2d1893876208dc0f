import type { JetStreamManager } from "nats";
import type { ContextName, SubjectSpace } from "../../contracts/index.js";
import type { ConsumerState, StreamBacklog } from "../../src/observability/backlog.js";

/** One request each for the workers' consumer and the dead-letter stream (`$JS.API.*.INFO`). */
export class JetStreamBacklog implements StreamBacklog {
  constructor(
    private readonly jsm: JetStreamManager,
    private readonly subjects: SubjectSpace,
    private readonly ctx: ContextName,
  ) {}

  async consumer(): Promise<ConsumerState | null> {
    const name = this.subjects.workerDurable(this.ctx);
    try {
      const info = await this.jsm.consumers.info(this.subjects.commandStream(this.ctx), name);
      return {
        name,
        pending: info.num_pending,
        ackPending: info.num_ack_pending,
        waiting: info.num_waiting,
        redelivered: info.num_redelivered,
      };
    } catch (err) {
      if ((err as { api_error?: { err_code?: number } }).api_error?.err_code === 10014) return null;
      throw err;
    }
  }

  async dlqDepth(): Promise<number> {
    const info = await this.jsm.streams.info(this.subjects.dlqStream(this.ctx));
    return info.state.messages;
  }
}
