import * as acp from "@agentclientprotocol/sdk";
import type { Log } from "../log.js";
import type { AgentGateway } from "./agent-gateway.js";
import type { LineSpan } from "./file-mentions.js";
import type { AcpSession, Turn } from "./session.js";

/** Everything one prompt turn works with. */
export class TurnContext {
  constructor(
    readonly session: AcpSession,
    readonly turn: Turn,
    readonly client: acp.AgentContext,
    readonly caps: acp.ClientCapabilities,
    readonly gateway: AgentGateway,
    readonly model: string,
    readonly log: Log,
  ) {}

  /** Sends one update, unless the turn was cancelled: after a cancel, nothing more is sent. */
  async send(update: acp.SessionUpdate): Promise<void> {
    if (this.turn.isCancelled) return;
    // A closed connection ends the turn elsewhere: a lost update is not this turn's failure.
    await this.client
      .notify("session/update", { sessionId: this.session.id, update })
      .catch((err: unknown) => this.log.debug({ err }, "update not sent"));
  }

  get canRead(): boolean {
    return this.caps.fs?.readTextFile === true;
  }

  get canWrite(): boolean {
    return this.caps.fs?.writeTextFile === true;
  }

  /**
   * A file's text through the client (`fs/read_text_file`: Zed's buffer, unsaved changes
   * included), or only `lines` of it. A file the client cannot read is -32002 naming it.
   */
  async readFile(path: string, lines?: LineSpan): Promise<string> {
    if (!this.canRead) {
      throw new acp.RequestError(
        -32002,
        `Cannot read ${path}: the client does not offer fs/read_text_file; attach the file's contents instead`,
        { uri: path },
      );
    }
    try {
      const r = await this.client.request("fs/read_text_file", {
        sessionId: this.session.id,
        path,
        ...(lines ? { line: lines.start, limit: lines.end - lines.start + 1 } : {}),
      });
      return r.content;
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new acp.RequestError(-32002, `Cannot read ${path}: ${why}`, { uri: path });
    }
  }

  /** A file's text, or null when the client cannot read it (e.g. it does not exist yet). */
  async tryReadFile(path: string): Promise<string | null> {
    if (!this.canRead) return null;
    return this.readFile(path).catch(() => null);
  }
}
