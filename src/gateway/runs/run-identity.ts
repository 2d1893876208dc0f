import type { Capability, ChatDelivery } from "../../../contracts/index.js";
import type { StreamRecord } from "../../ports.js";

/** Who a stream is and how it is delivered; the same on every instance that serves it. */
export interface RunIdentity {
  streamId: string;
  /** `chatcmpl-<stream id>`: the same on every chunk. */
  id: string;
  /** Unix seconds: when the stream's command was written. */
  created: number;
  model: string;
  capability: Capability;
  tenant: string;
  correlationId: string;
  /** The stream's command's id (a cancel names it as its cause). */
  commandId: string;
  delivery: ChatDelivery;
}

/** The identity a stream's readers see, built in one place whatever it is built from. */
export function runIdentity(fields: {
  streamId: string;
  created: Date;
  capability: Capability;
  tenant: string;
  correlationId: string;
  commandId: string;
  delivery: ChatDelivery;
}): RunIdentity {
  return {
    streamId: fields.streamId,
    id: `chatcmpl-${fields.streamId}`,
    created: Math.floor(fields.created.getTime() / 1000),
    model: fields.capability.id,
    capability: fields.capability,
    tenant: fields.tenant,
    correlationId: fields.correlationId,
    commandId: fields.commandId,
    delivery: fields.delivery,
  };
}

/** The identity of a stream found through the directory (`capability`: its record's model). */
export function identityOfRecord(
  tenant: string,
  streamId: string,
  record: StreamRecord,
  capability: Capability,
): RunIdentity {
  return runIdentity({
    streamId,
    created: record.createdAt,
    capability,
    tenant,
    correlationId: record.correlationId,
    commandId: record.commandId,
    delivery: record.delivery,
  });
}
