import {
  MessageType,
  ShowMessageNotification,
  TextDocumentSyncKind,
  TextDocuments,
  type CancellationToken,
  type ClientCapabilities,
  type Connection,
  type WorkDoneProgressReporter,
} from "vscode-languageserver/node";
import { TextDocument } from "vscode-languageserver-textdocument";
import type { EditorActionInfo, EditorActionInput } from "../../contracts/index.js";
import type { Log } from "../log.js";
import { PACKAGE_VERSION } from "../package-version.js";
import type { ActionGateway } from "./action-gateway.js";
import { codeActionsFor, RUN_ACTION_COMMAND, type RunActionArgs } from "./code-actions.js";
import { clampRange, pathOf, toLspDiagnostic, toWorkspaceEdit } from "./lsp-mapping.js";
import { SpecValidation, type ValidationSettings } from "./spec-validation.js";

/** Longest progress message: the tail of the answer so far. */
const PROGRESS_CHARS = 80;

/** Settings the editor may override in `initializationOptions`. */
interface InitializationOptions {
  validateLanguages?: unknown;
  validateAction?: unknown;
}

const isStrings = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === "string");

/**
 * The SEA language server on `connection` (see `sea-gateway lsp`): a code action per gateway
 * action on the selection (or the document); running one streams it with work-done progress,
 * applies its edits through `workspace/applyEdit`, publishes its diagnostics and shows its text
 * (for actions that answer text, such as `explain`). Documents of the configured languages are
 * validated on open and save (see {@link SpecValidation}).
 */
export function serveLanguageServer(
  connection: Connection,
  gateway: ActionGateway,
  defaults: ValidationSettings,
  log: Log,
): void {
  const documents = new TextDocuments(TextDocument);
  // `window/showMessage` (a notification): the `show…Message` helpers are requests that wait
  // for the user and fail on clients that do not implement them.
  const show = (type: MessageType, message: string) =>
    void connection
      .sendNotification(ShowMessageNotification.type, { type, message })
      .catch(() => undefined);
  let client: ClientCapabilities = {};
  let settings: ValidationSettings = defaults;
  // The key's actions, fetched once; a failure is retried on the next need.
  let actions: Promise<EditorActionInfo[]> | null = null;
  const listActions = () =>
    (actions ??= gateway.listActions().catch((err: unknown) => {
      actions = null;
      throw err;
    }));
  const validation = new SpecValidation(
    connection,
    gateway,
    () => settings,
    async () => (await listActions().catch(() => [])).some((a) => a.name === settings.action),
    log,
  );

  connection.onInitialize((params) => {
    client = params.capabilities;
    const o = (params.initializationOptions ?? {}) as InitializationOptions;
    settings = {
      languages: isStrings(o.validateLanguages) ? o.validateLanguages : defaults.languages,
      action: typeof o.validateAction === "string" ? o.validateAction : defaults.action,
    };
    return {
      capabilities: {
        textDocumentSync: {
          openClose: true,
          change: TextDocumentSyncKind.Incremental,
          save: { includeText: false },
        },
        codeActionProvider: { resolveProvider: false },
        executeCommandProvider: { commands: [RUN_ACTION_COMMAND] },
      },
      serverInfo: { name: "sea-gateway", version: PACKAGE_VERSION },
    };
  });

  connection.onInitialized(() => {
    listActions().then(
      (list) => log.info({ actions: list.map((a) => a.name) }, "actions available"),
      (err: unknown) => {
        log.warn({ err }, "cannot list the gateway's actions");
        show(
          MessageType.Warning,
          `SEA: cannot reach the gateway's actions (${(err as Error).message}).`,
        );
      },
    );
  });

  connection.onCodeAction(async (params) => {
    const list = await listActions().catch(() => []);
    const doc = documents.get(params.textDocument.uri);
    return codeActionsFor(list, doc ? { ...params, range: clampRange(params.range, doc) } : params);
  });

  connection.onExecuteCommand(async (params, token, reporter) => {
    if (params.command !== RUN_ACTION_COMMAND) return null;
    const args = params.arguments?.[0] as RunActionArgs | undefined;
    const doc = args && documents.get(args.uri);
    if (!args || !doc) {
      show(MessageType.Error, "SEA: the action's document is not open.");
      return null;
    }
    // The client's own progress token if it sent one, else one the server creates.
    const progress = params.workDoneToken
      ? reporter
      : await connection.window.createWorkDoneProgress();
    return runAction(args, doc, progress, token);
  });

  async function runAction(
    args: RunActionArgs,
    doc: TextDocument,
    progress: WorkDoneProgressReporter & { token?: CancellationToken },
    token: CancellationToken,
  ) {
    const info = (await listActions().catch(() => [])).find((a) => a.name === args.action);
    if (!info) {
      show(MessageType.Error, `SEA: no action '${args.action}' for this key.`);
      return null;
    }
    const ac = new AbortController();
    token.onCancellationRequested(() => ac.abort());
    progress.token?.onCancellationRequested(() => ac.abort());
    const input: EditorActionInput = {
      path: pathOf(doc.uri),
      language: doc.languageId,
      content: doc.getText(),
    };
    // The document may have changed since the code action was offered.
    const r = clampRange(args.range, doc);
    if (r.start.line !== r.end.line || r.start.character !== r.end.character) input.selection = r;
    progress.begin(`SEA: ${args.action.replace(/_/g, " ")}`, undefined, "waiting…", true);
    let text = "";
    try {
      const result = await gateway.runAction(args.action, input, {
        signal: ac.signal,
        onText: (t) => {
          text += t;
          progress.report(text.replace(/\s+/g, " ").slice(-PROGRESS_CHARS));
        },
      });
      if (result.edits.length > 0) {
        const applied = await connection.workspace.applyEdit({
          label: `SEA: ${args.action}`,
          edit: toWorkspaceEdit(
            result.edits,
            { ...input, uri: doc.uri, version: doc.version },
            client,
          ),
        });
        if (!applied.applied) {
          show(
            MessageType.Warning,
            `SEA: the editor did not apply the edits${applied.failureReason ? ` (${applied.failureReason})` : ""}.`,
          );
        }
      }
      if (info.output === "diagnostics" || result.diagnostics.length > 0) {
        await connection.sendDiagnostics({
          uri: doc.uri,
          version: doc.version,
          diagnostics: result.diagnostics.map(toLspDiagnostic),
        });
      }
      if (info.output === "text") show(MessageType.Info, result.text);
      else if (result.text) connection.console.info(`SEA ${args.action}: ${result.text}`);
      return result;
    } catch (err) {
      if (ac.signal.aborted) return null;
      log.warn({ err, action: args.action }, "action failed");
      show(MessageType.Error, `SEA ${args.action}: ${(err as Error).message}`);
      return null;
    } finally {
      progress.done();
    }
  }

  documents.onDidOpen((e) => void validation.check(e.document));
  documents.onDidSave((e) => void validation.check(e.document));
  documents.onDidClose((e) => void validation.clear(e.document.uri));
  documents.listen(connection);
}
