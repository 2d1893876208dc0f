import { fileURLToPath, pathToFileURL } from "node:url";
import {
  DiagnosticSeverity,
  type ClientCapabilities,
  type Diagnostic as LspDiagnostic,
  type Range,
  type TextEdit as LspTextEdit,
  type WorkspaceEdit,
} from "vscode-languageserver/node";
import type { TextDocument } from "vscode-languageserver-textdocument";
import type {
  Diagnostic,
  DiagnosticSeverity as Severity,
  TextEdit,
} from "../../contracts/index.js";

/** Severity names (our wire format) → LSP's numbers (data, not code). */
const SEVERITIES: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

/** The path an action sees for a document: its file path, or the URI itself for other schemes. */
export function pathOf(uri: string): string {
  return uri.startsWith("file:") ? fileURLToPath(uri) : uri;
}

/** The URI of a path an action answered (the document's own, or a new file next to it). */
export function uriOf(path: string, doc: { uri: string; path: string }): string {
  if (path === doc.path) return doc.uri;
  return doc.uri.startsWith("file:") ? pathToFileURL(path).href : path;
}

/**
 * A client's range as a range inside `doc`: a character beyond its line's length falls back to
 * the line's length and a line beyond the last to the document's end (LSP: Neovim sends a line
 * selection's end one past the line).
 */
export function clampRange(range: Range, doc: TextDocument): Range {
  return {
    start: doc.positionAt(doc.offsetAt(range.start)),
    end: doc.positionAt(doc.offsetAt(range.end)),
  };
}

export function toLspDiagnostic(d: Diagnostic): LspDiagnostic {
  return {
    range: d.range,
    severity: SEVERITIES[d.severity],
    message: d.message,
    source: "sea",
    ...(d.code !== undefined ? { code: d.code } : {}),
  };
}

/**
 * An action's edits as one workspace edit. Edits of files other than the document create them
 * first (a generated test file) when the client can create files; positions pass through
 * unchanged (both sides count UTF-16 units).
 */
export function toWorkspaceEdit(
  edits: readonly TextEdit[],
  doc: { uri: string; path: string; version: number },
  client: ClientCapabilities,
): WorkspaceEdit {
  const byUri = new Map<string, LspTextEdit[]>();
  for (const e of edits) {
    const uri = uriOf(e.path, doc);
    const list = byUri.get(uri) ?? [];
    list.push({ range: e.range, newText: e.replacement });
    byUri.set(uri, list);
  }
  const we = client.workspace?.workspaceEdit;
  if (!we?.documentChanges) return { changes: Object.fromEntries(byUri) };
  const canCreate = we.resourceOperations?.includes("create") ?? false;
  const documentChanges: NonNullable<WorkspaceEdit["documentChanges"]> = [];
  for (const [uri, list] of byUri) {
    const own = uri === doc.uri;
    if (!own && canCreate) {
      documentChanges.push({ kind: "create", uri, options: { ignoreIfExists: true } });
    }
    documentChanges.push({
      textDocument: { uri, version: own ? doc.version : null },
      edits: list,
    });
  }
  return { documentChanges };
}
