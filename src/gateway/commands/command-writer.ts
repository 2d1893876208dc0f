import type { Capability, ChatDelivery, SubjectSpace } from "../../../contracts/index.js";
import { cancelText, type CancelReason } from "../../cancel-reason.js";
import { withDbRetry } from "../../db-retry.js";
import type { Log } from "../../log.js";
import { metrics } from "../../observability/metrics.js";
import { traced, tracer } from "../../observability/tracing.js";
import type { ImmediateDispatcher } from "../../outbox/immediate-dispatcher.js";
import type { OutboxMessage, OutboxWriter } from "../../ports.js";
import { buildCancelCommand, buildChatCommand } from "./chat-command.js";
import type { ChatInput } from "./chat-request.js";

/** What writing a run's command gave: its id, whether this call wrote it, and its time. */
export interface WrittenCommand {
  commandId: string;
  written: boolean;
  /**
   * The command's `occurred_at`: the time the stream's record keeps, so a run started here and
   * the same run read back from the directory agree on when it was created.
   */
  created: Date;
}

/** The written command of `command`, an outbox message this call wrote or found written. */
export function writtenCommand(command: OutboxMessage, written: boolean): WrittenCommand {
  return {
    commandId: command.envelope.event_id,
    written,
    created: new Date(command.envelope.occurred_at),
  };
}

/** What the UI shell says about the request's user and conversation. */
export interface ClientOrigin {
  userId?: string | undefined;
  conversationId?: string | undefined;
  /** The W3C traceparent the request came with (passed along when tracing is off). */
  traceparent?: string | undefined;
}

/** The stream a command is written for. */
export interface StreamRef {
  streamId: string;
  tenant: string;
  correlationId: string;
}

/** A stream to cancel: where its command went, and the command's id (the cancel's cause). */
export interface CancelTarget extends StreamRef {
  capability: Capability;
  commandId: string;
}

/** Ports and settings the command writer needs. */
export interface CommandWriterDeps {
  subjects: SubjectSpace;
  outbox: OutboxWriter;
  /** Publishes commands as soon as they are committed (the relay stays the safety net). */
  dispatcher?: ImmediateDispatcher | undefined;
  log: Log;
}

/** How long a cancel keeps being retried while its context's database is unreachable. */
const CANCEL_RETRY_FOR_MS = 60_000;

/**
 * Writes the commands a run becomes (`chat_completion`, `editor_action`, `chat_cancel`), each
 * through the owning context's outbox and published at once. Command ids derive from the stream
 * id, so writing one twice keeps the first.
 */
export class CommandWriter {
  constructor(private readonly deps: CommandWriterDeps) {}

  /**
   * Writes a stream's chat command. Returns false if the stream's command was already there (a
   * retry of the same request): nothing is written then.
   */
  async writeChat(
    input: ChatInput,
    stream: StreamRef,
    delivery: ChatDelivery,
    origin: ClientOrigin,
  ): Promise<WrittenCommand> {
    const command = buildChatCommand(this.deps.subjects, {
      request: input.request,
      capability: input.capability,
      tenant: stream.tenant,
      streamId: stream.streamId,
      correlationId: stream.correlationId,
      userId: origin.userId,
      conversationId: origin.conversationId,
      delivery,
    });
    command.traceId = origin.traceparent;
    const written = await this.writeCommand(input.capability, command);
    return writtenCommand(command, written);
  }

  /**
   * Writes a stream's `chat_cancel` command (once per stream: a second call finds the first),
   * retrying with backoff while the context's database is unreachable, so a cancel is not lost
   * to a short outage or a burst. Resolves once it is written; rejects only after retrying
   * for a minute.
   */
  async writeCancel(
    run: CancelTarget,
    reason: CancelReason,
    log: Log = this.deps.log,
  ): Promise<void> {
    const command = buildCancelCommand(this.deps.subjects, {
      capability: run.capability,
      tenant: run.tenant,
      streamId: run.streamId,
      correlationId: run.correlationId,
      causationId: run.commandId,
      reason: cancelText(reason),
    });
    const clog = log.child({ stream_id: run.streamId });
    let written: boolean;
    try {
      written = await withDbRetry(
        "writing a cancel command",
        () => this.writeCommand(run.capability, command),
        { forMs: CANCEL_RETRY_FOR_MS, capMs: 5_000 },
        clog,
      );
    } catch (err) {
      clog.error({ err }, "could not write the cancel command");
      throw err;
    }
    if (written) metrics.streamCancelled(reason);
    clog.info({ reason: cancelText(reason) }, "cancel command written");
  }

  /**
   * Writes a command through the owning context's outbox, then publishes it at once if it was
   * new. Returns false if a command with its id was already there (nothing is written then).
   */
  async writeCommand(capability: Capability, command: OutboxMessage): Promise<boolean> {
    // The row keeps the insert span's trace context, so whoever publishes it continues the
    // trace; with tracing off, the request's own traceparent (if any) is kept as it came.
    const parent = tracer().active() ?? command.traceId;
    const attributes = {
      "sea.context": capability.context,
      "sea.command": command.envelope.event_type,
      "sea.correlation_id": command.envelope.correlation_id,
    };
    return traced("outbox insert", { parent, attributes }, async (traceparent) => {
      command.traceId = traceparent;
      const inserted = await this.deps.outbox.enqueue(capability.context, [command]);
      if (inserted.length === 0) return false;
      this.deps.dispatcher?.dispatch(capability.context, [command]);
      return true;
    });
  }
}
