import { z } from "zod";

/**
 * The message envelope every command and event carries (ARCHITECTURE.md, "Envelope").
 *
 * Glossary:
 * - event_id: unique id of this message; also the outbox row id and the `Nats-Msg-Id`.
 * - correlation_id: ties every message of one client request together (the request id).
 * - causation_id: the id of the message that caused this one.
 * - stream_id / seq / attempt: on result events only: the request's result stream, the position
 *   in it (1-based), and the delivery attempt of the command that produced it.
 */
export const EnvelopeSchema = z.object({
  event_id: z.string().min(1),
  event_type: z.string().min(1),
  event_version: z.number().int().positive(),
  tenant_id: z.string().min(1),
  correlation_id: z.string().min(1),
  causation_id: z.string().min(1).nullable(),
  occurred_at: z.string().min(1),
  payload: z.unknown(),
  stream_id: z.string().min(1).optional(),
  seq: z.number().int().positive().optional(),
  attempt: z.number().int().positive().optional(),
});
export type Envelope<P = unknown> = Omit<z.infer<typeof EnvelopeSchema>, "payload"> & {
  payload: P;
};

/**
 * The tolerant reading of an envelope published by any service on the cluster: unknown fields
 * are dropped, and the identifiers other services use (`event_id`, `command_id`, `version`) are
 * all optional. Our own services always write the full {@link EnvelopeSchema}.
 */
export const ForeignEnvelopeSchema = z.object({
  event_id: z.string().min(1).optional(),
  command_id: z.string().min(1).optional(),
  version: z.number().int().nonnegative().optional(),
  event_type: z.string().min(1),
  event_version: z.number().int().positive().optional(),
  tenant_id: z.string().min(1).optional(),
  correlation_id: z.string().min(1).nullish(),
  causation_id: z.string().min(1).nullish(),
  occurred_at: z.string().min(1).optional(),
  payload: z.unknown().optional(),
  stream_id: z.string().min(1).optional(),
  seq: z.number().int().positive().optional(),
  attempt: z.number().int().positive().optional(),
});
export type ForeignEnvelope = z.infer<typeof ForeignEnvelopeSchema>;

/** The outcome of decoding bytes into an envelope: never throws. */
export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: string };

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Decodes JSON bytes with a schema; undecodable UTF-8, bad JSON or a schema miss is an error. */
export function decodeWith<T>(schema: z.ZodType<T>, bytes: Uint8Array): DecodeResult<T> {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(bytes));
  } catch (err) {
    return { ok: false, error: `undecodable message: ${(err as Error).message}` };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    return { ok: false, error: `schema mismatch: ${z.prettifyError(parsed.error)}` };
  return { ok: true, value: parsed.data };
}

/** Decodes an envelope from any service on the cluster (see {@link ForeignEnvelopeSchema}). */
export function decodeEnvelope(bytes: Uint8Array): DecodeResult<ForeignEnvelope> {
  return decodeWith(ForeignEnvelopeSchema, bytes);
}
