import {
  isSubjectToken,
  type ContextName,
  type StoredChatCompletion,
  type SubjectSpace,
} from "../../../contracts/index.js";
import type { CapabilityCatalog } from "../../catalog.js";
import { StreamNotFoundError } from "../../errors.js";
import type { Principal, ResultFeed, StreamDirectory, StreamRecord } from "../../ports.js";
import { AttemptSequencer, type Delivery } from "./attempt-sequencer.js";
import { decodeResultEvents } from "./result-decoder.js";
import { identityOfRecord, type RunIdentity } from "./run-identity.js";
import { storedCompletion } from "./stored-completion.js";

/** A stream found through the directory, with its identity. */
export interface FoundStream {
  record: StreamRecord;
  identity: RunIdentity;
}

/**
 * Streams as stored, from any instance: found through the directory (for the caller's tenant
 * only; another tenant's stream, a malformed id and a missing one are the same 404), their
 * subjects, and their status read from the stored events.
 */
export class StoredRuns {
  constructor(
    private readonly deps: {
      catalog: CapabilityCatalog;
      subjects: SubjectSpace;
      results: ResultFeed;
      directory: StreamDirectory;
    },
  ) {}

  /** One of the caller's streams, or {@link StreamNotFoundError}. */
  async find(principal: Principal, streamId: string): Promise<FoundStream> {
    const record = isSubjectToken(streamId)
      ? await this.deps.directory.find(principal.tenant, streamId)
      : null;
    const capability = record ? this.deps.catalog.find(record.model) : undefined;
    if (!record || record.deleted || !capability) throw new StreamNotFoundError(streamId);
    return { record, identity: identityOfRecord(principal.tenant, streamId, record, capability) };
  }

  /** Where a stream's results are stored, and where they travel live. */
  subjectsOf(context: ContextName, tenant: string, streamId: string) {
    const s = this.deps.subjects;
    return {
      stored: s.result(context, tenant, streamId),
      live: s.liveResult(context, tenant, streamId),
    };
  }

  /** The stored completion of a stream that is not followed here. */
  async status({ record, identity }: FoundStream): Promise<StoredChatCompletion> {
    // A completed stream's terminal event holds the whole answer: no need to read its deltas.
    if (record.terminal?.kind === "completed") {
      return storedCompletion(identity, [record.terminal], false);
    }
    const deliveries = await this.deliveries({ record, identity });
    return storedCompletion(identity, deliveries, record.cancelRequested);
  }

  /**
   * The ordered deliveries of a stream's stored events (no subscription), of the attempt that
   * answers it, ending with its terminal event once it has one.
   */
  async deliveries({ record, identity }: FoundStream): Promise<Delivery[]> {
    const subject = this.deps.subjects.result(record.context, identity.tenant, identity.streamId);
    const stored = await this.deps.results.replay(record.context, subject);
    const sequencer = new AttemptSequencer();
    let out: Delivery[] = [];
    for (const m of stored.messages) {
      for (const e of decodeResultEvents(m.data) ?? []) {
        for (const d of sequencer.push(e)) {
          if (d.kind === "reset") out = [];
          else out.push(d);
        }
      }
    }
    // The terminal event is in the outbox even when its stored copy is not (yet, or any more).
    if (record.terminal && !out.some((d) => d.kind !== "delta")) out.push(record.terminal);
    return out;
  }
}
