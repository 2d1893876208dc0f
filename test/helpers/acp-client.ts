import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { Readable, Writable } from "node:stream";
import * as acp from "@agentclientprotocol/sdk";
import { spawnCli } from "./cli.js";

/** What the test editor answers `session/request_permission` with. */
export type PermissionChoice = "allow_once" | "allow_always" | "reject_once" | "cancelled";

/**
 * `sea-gateway acp` spawned over stdio and driven by the SDK's own client, as an editor runs
 * it: files served from memory (unsaved buffers), writes and permission requests recorded,
 * every stdout line kept to check that it is protocol only.
 */
export class AcpAgentProcess {
  readonly child: ChildProcess;
  readonly connection: acp.ClientConnection;
  readonly updates: acp.SessionNotification[] = [];
  readonly permissions: acp.RequestPermissionRequest[] = [];
  readonly writes: acp.WriteTextFileRequest[] = [];
  readonly stdoutLines: string[] = [];
  stderr = "";
  permission: PermissionChoice = "allow_once";
  private partial = "";

  constructor(
    env: Record<string, string>,
    readonly files: Map<string, string> = new Map(),
  ) {
    this.child = spawnCli(["acp"], env, { stdin: true });
    this.child.stdout!.on("data", (d: Buffer) => {
      const text = this.partial + d.toString();
      const lines = text.split("\n");
      this.partial = lines.pop()!;
      this.stdoutLines.push(...lines.filter((l) => l.length > 0));
    });
    this.child.stderr!.on("data", (d: Buffer) => {
      this.stderr += d.toString();
      if (process.env.TEST_LOG_LEVEL) process.stderr.write(`[acp] ${d.toString()}`);
    });
    const app = acp
      .client({ name: "test-editor" })
      .onNotification("session/update", ({ params }) => {
        this.updates.push(params);
      })
      .onRequest("session/request_permission", ({ params }) => {
        this.permissions.push(params);
        if (this.permission === "cancelled") return { outcome: { outcome: "cancelled" } };
        return { outcome: { outcome: "selected", optionId: this.permission } };
      })
      .onRequest("fs/read_text_file", ({ params }) => {
        const text = this.files.get(params.path);
        if (text === undefined) throw acp.RequestError.resourceNotFound(params.path);
        if (!params.line) return { content: text };
        const lines = text.split("\n").slice(params.line - 1);
        return { content: lines.slice(0, params.limit ?? lines.length).join("\n") };
      })
      .onRequest("fs/write_text_file", ({ params }) => {
        this.writes.push(params);
        this.files.set(params.path, params.content);
        return {};
      });
    this.connection = app.connect(
      acp.ndJsonStream(
        Writable.toWeb(this.child.stdin!),
        Readable.toWeb(this.child.stdout!) as ReadableStream<Uint8Array>,
      ),
    );
  }

  get agent(): acp.ClientContext {
    return this.connection.agent;
  }

  initialize(caps: acp.ClientCapabilities = { fs: { readTextFile: true, writeTextFile: true } }) {
    return this.agent.request("initialize", {
      protocolVersion: acp.PROTOCOL_VERSION,
      clientCapabilities: caps,
      clientInfo: { name: "test-editor", version: "1.0.0" },
    });
  }

  /** The updates of one session from index `from` on. */
  of(sessionId: string, from = 0): acp.SessionUpdate[] {
    return this.updates
      .slice(from)
      .filter((u) => u.sessionId === sessionId)
      .map((u) => u.update);
  }

  /** The text of a session's chunks of one kind from index `from` on. */
  text(sessionId: string, kind: string, from = 0): string {
    return this.of(sessionId, from)
      .filter((u) => u.sessionUpdate === kind)
      .map((u) => {
        const c = (u as { content?: acp.ContentBlock }).content;
        return c?.type === "text" ? c.text : "";
      })
      .join("");
  }

  /** Ends stdin (what an editor closing the agent does) and resolves with the exit code. */
  async close(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = once(this.child, "exit");
    this.child.stdin!.end();
    const [code] = (await exited) as [number | null];
    return code;
  }
}
