import { z } from "zod";
import type {
  AssistantMessage,
  ChatCompletionChunk,
  ChoiceLogprobs,
  FinishReason,
  Usage,
} from "./openai.js";

/**
 * Streams as resources: the stored-completion status object and the WebSocket protocol
 * (`/v1/ws`). A stream is one chat command's results, named by its stream id.
 */

/** Where a stream is in its life: `queued` until the first result, then `in_progress`. */
export const STREAM_STATUSES = [
  "queued",
  "in_progress",
  "completed",
  "failed",
  "cancelled",
] as const;
export type StreamStatus = (typeof STREAM_STATUSES)[number];

/** True once nothing more will happen to the stream. */
export const isTerminalStatus = (s: StreamStatus) =>
  s === "completed" || s === "failed" || s === "cancelled";

/**
 * `GET /v1/chat/completions/{id}`: OpenAI's stored `chat.completion` (the answer so far while it
 * runs) plus the stream's `status`. `usage` and `finish_reason` are null until it completes.
 */
export interface StoredChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  status: StreamStatus;
  stream_id: string;
  background: boolean;
  choices: {
    index: 0;
    message: AssistantMessage;
    logprobs: ChoiceLogprobs | null;
    finish_reason: FinishReason | null;
  }[];
  usage: Usage | null;
  /** Why it failed or was cancelled. */
  error: { message: string; type: string; code: string | null } | null;
}

/**
 * A client's name for one of its requests, echoed back in the gateway's answers: a number, or
 * text without control characters (a CR or LF could never travel as a header; a NUL could never
 * be stored).
 */
const ClientRef = z.union([
  z
    .string()
    .min(1)
    .max(256)
    .refine((s) => !/\p{Cc}/u.test(s), "must not contain control characters (CR, LF, NUL…)"),
  z.number().int(),
]);
const StreamIdField = z.string().min(1).max(256);

/** What a client may send on `/v1/ws`. */
export const WsClientMessageSchema = z.discriminatedUnion("type", [
  /** Starts a chat completion (the body of `POST /v1/chat/completions`); `id` is the client's. */
  z.object({ type: z.literal("chat"), id: ClientRef, request: z.unknown() }),
  /** Follows a stream (started here, over HTTP or elsewhere), after `starting_after` chunks. */
  z.object({
    type: z.literal("subscribe"),
    stream_id: StreamIdField,
    starting_after: z.number().int().nonnegative().optional(),
  }),
  z.object({ type: z.literal("unsubscribe"), stream_id: StreamIdField }),
  z.object({ type: z.literal("cancel"), stream_id: StreamIdField }),
  /** Follows a tenant's domain events (see `GET /v1/events`). */
  z.object({
    type: z.literal("subscribe_events"),
    id: ClientRef.optional(),
    subject: z.string().min(1).max(512),
    deliver: z.enum(["new", "all"]).optional(),
    start_seq: z.number().int().positive().optional(),
    start_time: z.iso.datetime({ offset: true }).optional(),
  }),
  z.object({ type: z.literal("unsubscribe_events"), subscription_id: z.string().min(1).max(256) }),
  z.object({ type: z.literal("ping") }),
]);
export type WsClientMessage = z.infer<typeof WsClientMessageSchema>;

/** The error object every surface uses (OpenAI's, without `param`). */
export interface WireError {
  message: string;
  type: string;
  code: string | null;
}

/** What the gateway sends on `/v1/ws`. */
export type WsServerMessage =
  | { type: "started"; id: string | number; stream_id: string }
  | { type: "chunk"; stream_id: string; seq: number; chunk: ChatCompletionChunk }
  | { type: "done"; stream_id: string; status: StreamStatus }
  /**
   * The chunks sent so far belong to an attempt that will not be the answer (a worker failed
   * and the model answered differently): drop them; the stream starts again at seq 1.
   */
  | { type: "reset"; stream_id: string }
  | { type: "error"; stream_id?: string; id?: string | number; error: WireError }
  | { type: "subscribed"; id?: string | number; subscription_id: string; subject: string }
  | { type: "event"; subscription_id: string; seq: number; subject: string; event: unknown }
  | { type: "pong" };
