import type { FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import { plainZodMessage } from "../../validation-message.js";
import { firstChunkTimer } from "../runs/first-chunk.js";
import {
  isSubjectToken,
  WsClientMessageSchema,
  type WsClientMessage,
  type WsServerMessage,
} from "../../../contracts/index.js";
import { BadRequestError, CapabilityFailedError, toOpenAIError } from "../../errors.js";
import { sha256 } from "../../ids.js";
import type { Log } from "../../log.js";
import { assertJsonDepth } from "../../request-text.js";
import { metrics } from "../../observability/metrics.js";
import type { DomainEventSubscription, Principal, RevocationList } from "../../ports.js";
import { AuthenticationError } from "../../errors.js";
import type { AdmissionDoor, WorkKind } from "../admission/door.js";
import { OpenAIFormatter } from "../chat/openai-format.js";
import type { ChatInput } from "../commands/chat-request.js";
import { eventStart, type DomainEvents } from "../events/domain-events.js";
import { clientOrigin } from "../http/request-headers.js";
import { streamIdOfResponse } from "../responses/ids.js";
import type { ChatRuns } from "../runs/chat-runs.js";
import type { RunReader } from "../runs/run-reader.js";
import { SendQueue, type SendQueueLimits } from "./send-queue.js";

/**
 * A chat's correlation id: the socket's request id and the client's own id for the chat, which
 * travels as a NATS header and is stored, so only as a subject token (any other id is hashed).
 */
function correlationIdOf(requestId: string, clientId: string | number): string {
  const id = String(clientId);
  return `${requestId}-${isSubjectToken(id) ? id : sha256(id).slice(0, 16)}`;
}

/** What a WebSocket session needs. */
export interface WsSessionDeps {
  door: AdmissionDoor;
  chat: WorkKind<ChatInput, ChatInput>;
  runs: ChatRuns;
  events?: DomainEvents | undefined;
  revocations?: RevocationList | undefined;
  limits: SendQueueLimits & {
    /** Streams and event subscriptions one socket may follow at once. */
    maxSubscriptions: number;
  };
}

/**
 * One authenticated `/v1/ws` socket: many chats and subscriptions multiplexed by stream id
 * (protocol in contracts/streams.ts). Every stream is read through the run registry like any
 * other surface; a bad frame gets an error message, never a dropped socket; a slow reader is
 * closed by its {@link SendQueue}; closing the socket leaves every stream it reads, which for
 * its own plain chats means cancelling them (after the cancel grace).
 */
export class WsSession {
  private readonly readers = new Map<string, RunReader>();
  private readonly eventSubs = new Map<string, Promise<DomainEventSubscription | null>>();
  private readonly out: SendQueue;
  private closed = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly req: FastifyRequest,
    private readonly principal: Principal,
    private readonly deps: WsSessionDeps,
    private readonly log: Log,
  ) {
    this.out = new SendQueue(socket, deps.limits, log);
    socket.on("message", (data, isBinary) => void this.onFrame(data, isBinary));
    socket.on("close", () => this.close());
    socket.on("error", (err) => log.info({ err }, "websocket error"));
  }

  private async onFrame(data: unknown, isBinary: boolean): Promise<void> {
    let msg: WsClientMessage;
    try {
      if (isBinary)
        throw new BadRequestError("Frames must be text (JSON).", null, "invalid_message");
      let json: unknown;
      try {
        json = JSON.parse(String(data));
      } catch {
        throw new BadRequestError("The frame is not JSON.", null, "invalid_message");
      }
      assertJsonDepth(json);
      const parsed = WsClientMessageSchema.safeParse(json);
      if (!parsed.success) {
        const { message } = plainZodMessage(parsed.error);
        throw new BadRequestError(`Invalid message: ${message}.`, null, "invalid_message");
      }
      msg = parsed.data;
      if (this.principal.keyId && this.deps.revocations?.isRevoked(this.principal.keyId)) {
        this.socket.close(1008, "key revoked");
        throw new AuthenticationError();
      }
    } catch (err) {
      return this.sendError(err, {});
    }
    try {
      await this.handle(msg);
    } catch (err) {
      const ref =
        "stream_id" in msg ? { stream_id: msg.stream_id } : "id" in msg ? { id: msg.id } : {};
      this.sendError(err, ref as { stream_id?: string; id?: string | number });
    }
  }

  private async handle(msg: WsClientMessage): Promise<void> {
    switch (msg.type) {
      case "ping":
        return this.send({ type: "pong" });
      case "chat": {
        this.assertRoom();
        const startedAt = performance.now();
        const { run } = await this.deps.door.admit(this.deps.chat, msg.request, {
          principal: this.principal,
          correlationId: correlationIdOf(this.req.id, msg.id),
          log: this.log,
          origin: clientOrigin(this.req),
        });
        this.send({ type: "started", id: msg.id, stream_id: run.streamId });
        return this.follow(run.read(), startedAt);
      }
      case "subscribe": {
        if (this.readers.has(msg.stream_id)) return;
        this.assertRoom();
        // The run behind a response can be followed by its response id too.
        const streamId = streamIdOfResponse(msg.stream_id) ?? msg.stream_id;
        const run = await this.deps.runs.open(this.principal, streamId, this.log);
        return this.follow(run.read(msg.starting_after ?? 0));
      }
      case "unsubscribe":
        this.readers.get(msg.stream_id)?.leave();
        this.readers.delete(msg.stream_id);
        return;
      case "cancel": {
        const status = await this.deps.runs.cancel(
          this.principal,
          msg.stream_id,
          "client_request",
          this.log,
        );
        // A stream followed here ends with its own `done`; otherwise say how it stands.
        if (!this.readers.has(msg.stream_id)) {
          this.send({ type: "done", stream_id: msg.stream_id, status: status.status });
        }
        return;
      }
      case "subscribe_events":
        return this.subscribeEvents(msg);
      case "unsubscribe_events": {
        const sub = this.eventSubs.get(msg.subscription_id);
        this.eventSubs.delete(msg.subscription_id);
        await (await sub)?.close();
        return;
      }
    }
  }

  /**
   * Sends a stream's chunks until it ends, the socket closes or the client unsubscribes.
   * `startedAt`: when the chat was asked for (its time to first chunk is measured).
   */
  private async follow(reader: RunReader, startedAt?: number): Promise<void> {
    const run = reader.run;
    const streamId = run.streamId;
    this.readers.set(streamId, reader);
    if (this.closed) return reader.leave();
    const streamClosed = metrics.streamOpened("websocket");
    const firstChunk = firstChunkTimer("websocket", startedAt);
    const fmt = new OpenAIFormatter(run.identity);
    const includeUsage = run.identity.delivery.include_usage === true;
    try {
      for (let batch = await reader.next(); batch; batch = await reader.next()) {
        firstChunk(batch);
        for (const d of batch) {
          if (d.kind === "reset") {
            this.send({ type: "reset", stream_id: streamId });
          } else if (d.kind === "delta") {
            // The same bytes as send({type: "chunk", …}), with the chunk written around its
            // fixed head and tail (see deltaChunkJson): this runs for every delta.
            this.out.send(
              `{"type":"chunk","stream_id":${JSON.stringify(streamId)},"seq":${d.seq},"chunk":${fmt.deltaChunkJson(d.payload)}}`,
            );
          } else if (d.kind === "completed") {
            const chunk = fmt.chunk({}, d.payload.finish_reason);
            this.send({ type: "chunk", stream_id: streamId, seq: d.seq, chunk });
            if (includeUsage) {
              this.send({
                type: "chunk",
                stream_id: streamId,
                seq: d.seq,
                chunk: fmt.usageChunk(d.payload.usage),
              });
            }
            return this.send({ type: "done", stream_id: streamId, status: "completed" });
          } else {
            this.sendError(CapabilityFailedError.from(d.payload), { stream_id: streamId });
            const status = d.payload.error.code === "cancelled" ? "cancelled" : "failed";
            return this.send({ type: "done", stream_id: streamId, status });
          }
        }
        // Backpressure: the next batch waits until the socket has room (or closes a slow reader).
        if (!(await this.out.drained())) return;
      }
    } catch (err) {
      this.sendError(err, { stream_id: streamId });
      this.send({
        type: "done",
        stream_id: streamId,
        status: run.status === "completed" ? "completed" : "failed",
      });
    } finally {
      streamClosed();
      reader.leave();
      if (this.readers.get(streamId) === reader) this.readers.delete(streamId);
    }
  }

  private async subscribeEvents(
    msg: Extract<WsClientMessage, { type: "subscribe_events" }>,
  ): Promise<void> {
    const events = this.deps.events;
    if (!events) throw new BadRequestError("Event subscriptions are not enabled.", "type");
    this.assertRoom();
    const start = eventStart(msg);
    const subscriptionId = `sub_${this.eventSubs.size}_${Date.now().toString(36)}`;
    const pending = events
      .subscribe(this.principal.tenant, msg.subject, start, async (e) => {
        this.send({ type: "event", subscription_id: subscriptionId, ...e });
        if (!(await this.out.drained())) throw new Error("socket closed");
      })
      .catch((err: unknown) => {
        this.eventSubs.delete(subscriptionId);
        throw err;
      });
    this.eventSubs.set(
      subscriptionId,
      pending.catch(() => null),
    );
    const sub = await pending;
    if (this.closed) return void (await sub.close());
    this.send({
      type: "subscribed",
      ...(msg.id !== undefined ? { id: msg.id } : {}),
      subscription_id: subscriptionId,
      subject: msg.subject,
    });
  }

  private assertRoom(): void {
    if (this.readers.size + this.eventSubs.size >= this.deps.limits.maxSubscriptions) {
      throw new BadRequestError(
        `At most ${this.deps.limits.maxSubscriptions} streams and subscriptions per socket.`,
        null,
        "too_many_subscriptions",
      );
    }
  }

  private send(msg: WsServerMessage): void {
    this.out.send(JSON.stringify(msg));
  }

  private sendError(err: unknown, ref: { stream_id?: string; id?: string | number }): void {
    const { status, body } = toOpenAIError(err);
    if (status >= 500 && !(err instanceof CapabilityFailedError)) {
      this.log.error({ err }, "websocket request failed");
    }
    const { message, type, code } = body.error;
    this.send({ type: "error", ...ref, error: { message, type, code } });
  }

  /** The socket closed: leave every stream (plain chats started here are then cancelled). */
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.close();
    for (const reader of this.readers.values()) reader.leave();
    this.readers.clear();
    for (const sub of this.eventSubs.values()) void sub.then((s) => s?.close());
    this.eventSubs.clear();
  }
}
