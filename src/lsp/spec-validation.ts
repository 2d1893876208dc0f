import type { Connection } from "vscode-languageserver/node";
import type { TextDocument } from "vscode-languageserver-textdocument";
import type { Log } from "../log.js";
import type { ActionGateway } from "./action-gateway.js";
import { pathOf, toLspDiagnostic } from "./lsp-mapping.js";

/** Which documents are validated, by which action. */
export interface ValidationSettings {
  languages: readonly string[];
  action: string;
}

/**
 * Runs the validating action (`validate_spec`) on documents of the configured languages when
 * they are opened or saved, and publishes its diagnostics (an empty list clears them once the
 * problems are fixed). A newer check of a document cancels the one still running.
 */
export class SpecValidation {
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly connection: Connection,
    private readonly gateway: ActionGateway,
    private readonly settings: () => ValidationSettings,
    private readonly available: () => Promise<boolean>,
    private readonly log: Log,
  ) {}

  async check(doc: TextDocument): Promise<void> {
    const { languages, action } = this.settings();
    if (!languages.includes(doc.languageId)) return;
    if (!(await this.available())) return;
    this.running.get(doc.uri)?.abort();
    const ac = new AbortController();
    this.running.set(doc.uri, ac);
    try {
      const result = await this.gateway.runAction(
        action,
        { path: pathOf(doc.uri), language: doc.languageId, content: doc.getText() },
        { signal: ac.signal },
      );
      if (ac.signal.aborted) return;
      await this.connection.sendDiagnostics({
        uri: doc.uri,
        version: doc.version,
        diagnostics: result.diagnostics.map(toLspDiagnostic),
      });
    } catch (err) {
      if (ac.signal.aborted) return;
      this.log.warn({ err, uri: doc.uri }, "validation failed");
      this.connection.console.warn(`SEA ${action}: ${(err as Error).message}`);
    } finally {
      if (this.running.get(doc.uri) === ac) this.running.delete(doc.uri);
    }
  }

  /** A closed document: stop checking it and clear its diagnostics. */
  async clear(uri: string): Promise<void> {
    this.running.get(uri)?.abort();
    this.running.delete(uri);
    await this.connection.sendDiagnostics({ uri, diagnostics: [] });
  }
}
