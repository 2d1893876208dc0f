import { randomUUID } from "node:crypto";
import * as acp from "@agentclientprotocol/sdk";
import type { Log } from "../log.js";
import type { AgentGateway } from "./agent-gateway.js";
import { KEY_HINT, toAcpError } from "./acp-errors.js";
import { actionTurn } from "./action-turn.js";
import { chatTurn } from "./chat-turn.js";
import { titleOf } from "./context-envelope.js";
import { parsePrompt } from "./prompt-content.js";
import { replayRuns } from "./replay.js";
import { AcpSession, cwdOf } from "./session.js";
import { TurnContext } from "./turn-context.js";

/** What the agent needs from its surroundings (wired in `bin/acp.ts`). */
export interface AcpAgentDeps {
  /** The gateway with the current credentials; null while no key is configured. */
  gateway(): AgentGateway | null;
  /** Reads the credentials again (after `sea-gateway acp --login` in a terminal). */
  reloadCredentials(): void;
  gatewayUrl(): string;
  /** The chat model prompts run on. */
  model: string;
  /** This package's version (agent info). */
  version: string;
  log: Log;
}

const AUTH_METHOD: acp.AuthMethod = {
  id: "sea-api-key",
  name: "SEA API key",
  description:
    "Set SEA_API_KEY (from `sea-gateway keys create`) and SEA_GATEWAY_URL in the agent's env",
};
const LOGIN_METHOD: acp.AuthMethod = {
  type: "terminal",
  id: "sea-login",
  name: "Log in to a SEA gateway",
  description: "Asks for the gateway URL and an API key, and keeps them in your config directory",
  args: ["acp", "--login"],
};

/**
 * The ACP agent (`sea-gateway acp`): every prompt turn a durable gateway run, sessions kept on
 * the gateway as conversations (the session id is the runs' `X-Conversation-Id`), so
 * `session/load` replays them in any agent process. Failures answer as ACP errors; none ends
 * the process.
 */
export function createAcpAgent(deps: AcpAgentDeps): acp.AgentApp {
  const sessions = new Map<string, AcpSession>();
  let caps: acp.ClientCapabilities = {};

  const gatewayOrThrow = (): AgentGateway => {
    const g = deps.gateway();
    if (!g)
      throw acp.RequestError.authRequired(undefined, `no SEA API key is configured: ${KEY_HINT}`);
    return g;
  };
  const failure = (err: unknown) => toAcpError(err, deps.gatewayUrl());
  /** Checks the key: the actions it may run are also the session's slash commands. */
  const actionsOrThrow = async (g: AgentGateway) =>
    g.listActions().catch((err) => {
      throw failure(err);
    });
  const announceCommands = (client: acp.AgentContext, s: AcpSession) => {
    // After the answer: the client knows the session by then.
    setImmediate(() => {
      void client
        .notify("session/update", {
          sessionId: s.id,
          update: {
            sessionUpdate: "available_commands_update",
            availableCommands: s.actions.map((a) => ({
              name: a.name,
              description: a.description,
              input: { hint: "instruction (optional); mention a file or selection with @" },
            })),
          },
        })
        .catch(() => undefined);
    });
  };

  return acp
    .agent({ name: "sea-gateway" })
    .onRequest("initialize", ({ params }) => {
      caps = params.clientCapabilities ?? {};
      return {
        protocolVersion: acp.PROTOCOL_VERSION,
        agentCapabilities: {
          loadSession: true,
          promptCapabilities: { embeddedContext: true, image: false, audio: false },
          sessionCapabilities: { list: {} },
        },
        authMethods: caps.auth?.terminal ? [AUTH_METHOD, LOGIN_METHOD] : [AUTH_METHOD],
        agentInfo: { name: "sea-gateway", title: "SEA", version: deps.version },
      };
    })
    .onRequest("authenticate", async () => {
      deps.reloadCredentials();
      await actionsOrThrow(gatewayOrThrow());
      return {};
    })
    .onRequest("session/new", async ({ params, client }) => {
      const actions = await actionsOrThrow(gatewayOrThrow());
      const session = new AcpSession(randomUUID(), params.cwd, actions);
      sessions.set(session.id, session);
      announceCommands(client, session);
      return { sessionId: session.id };
    })
    .onRequest("session/load", async ({ params, client }) => {
      const g = gatewayOrThrow();
      const actions = await actionsOrThrow(g);
      const runs = await g.conversationRuns(params.sessionId).catch((err) => {
        throw failure(err);
      });
      if (!runs) throw acp.RequestError.sessionNotFound(params.sessionId);
      // Runs without a stored outcome (still running, or cut off): the answer so far.
      const partial = new Map<string, string>();
      for (const run of runs.filter((r) => !r.result && r.request.kind === "chat")) {
        const status = await g.chatStatus(run.stream_id).catch(() => null);
        const content = status?.choices[0]?.message.content;
        if (content) partial.set(run.id, content);
      }
      const replay = replayRuns(runs, partial);
      for (const update of replay.updates) {
        await client.notify("session/update", { sessionId: params.sessionId, update });
      }
      const session = new AcpSession(params.sessionId, params.cwd, actions);
      session.history.push(...replay.history);
      sessions.set(session.id, session);
      announceCommands(client, session);
      return {};
    })
    .onRequest("session/list", async ({ params }) => {
      const before = params.cursor ? Number(params.cursor) : undefined;
      if (before !== undefined && !Number.isInteger(before)) {
        throw acp.RequestError.invalidParams({ cursor: params.cursor }, "unknown cursor");
      }
      const page = await gatewayOrThrow()
        .conversations(before)
        .catch((err) => {
          throw failure(err);
        });
      const listed: acp.SessionInfo[] = [];
      for (const c of page.data) {
        const cwd = cwdOf(c.instructions);
        // Only sessions this agent started record their cwd; others are not ACP sessions.
        if (!cwd || (params.cwd && params.cwd !== cwd)) continue;
        listed.push({
          sessionId: c.id,
          cwd,
          title: titleOf(c.title),
          updatedAt: new Date(c.updated * 1000).toISOString(),
        });
      }
      const last = page.data.at(-1);
      return {
        sessions: listed,
        ...(page.hasMore && last ? { nextCursor: String(last.updated) } : {}),
      };
    })
    .onRequest("session/prompt", async ({ params, client, signal }) => {
      const session = sessions.get(params.sessionId);
      if (!session) throw acp.RequestError.sessionNotFound(params.sessionId);
      const prompt = parsePrompt(params.prompt);
      const gateway = gatewayOrThrow();
      const turn = session.begin();
      signal.addEventListener("abort", () => turn.cancel(), { once: true });
      const cx = new TurnContext(session, turn, client, caps, gateway, deps.model, deps.log);
      const command = prompt.command;
      if (command && !session.actions.some((a) => a.name === command.name)) {
        session.end(turn);
        const known = session.actions.map((a) => `/${a.name}`).join(", ") || "none";
        throw acp.RequestError.invalidParams(
          { command: command.name },
          `/${command.name} is not an editor action this key may run (available: ${known})`,
        );
      }
      const work = command
        ? actionTurn(cx, command.name, command.rest, prompt.attachments)
        : chatTurn(cx, prompt);
      // A cancelled turn's work may still fail as its requests are aborted: that is the cancel.
      work.catch(() => undefined);
      try {
        return { stopReason: await Promise.race([work, turn.cancelled]) };
      } catch (err) {
        if (turn.isCancelled) return { stopReason: "cancelled" as const };
        deps.log.info({ err, sessionId: session.id }, "prompt turn failed");
        throw failure(err);
      } finally {
        session.end(turn);
      }
    })
    .onNotification("session/cancel", ({ params }) => {
      sessions.get(params.sessionId)?.current?.cancel();
    });
}
