import { extname } from "node:path";
import { fileURLToPath } from "node:url";

/** 1-based, inclusive lines, as Zed names a selection (`file:///abs#L<a>:<b>`). */
export interface LineSpan {
  start: number;
  end: number;
}

/** A mentioned file: its absolute path, and the lines of a selection mention. */
export interface FileMention {
  path: string;
  lines?: LineSpan;
}

/**
 * The file a mention URI names: `file:///abs`, a selection `file:///abs#L<a>:<b>` (or `#L<a>`),
 * a symbol `file:///abs?symbol=Name#L<a>:<b>`. Null for other schemes (e.g. `zed://`).
 */
export function parseFileMention(uri: string): FileMention | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return null;
  }
  if (url.protocol !== "file:") return null;
  const lines = /^#L(\d+)(?::(\d+))?$/.exec(url.hash);
  url.hash = "";
  url.search = "";
  const path = fileURLToPath(url);
  if (!lines) return { path };
  const start = Number(lines[1]);
  const end = Number(lines[2] ?? lines[1]);
  return start >= 1 && end >= start ? { path, lines: { start, end } } : { path };
}

/** Language ids (as LSP names them) by file extension (data, not code). */
const LANGUAGES: Record<string, string> = {
  ".ts": "typescript",
  ".tsx": "typescriptreact",
  ".mts": "typescript",
  ".cts": "typescript",
  ".js": "javascript",
  ".jsx": "javascriptreact",
  ".mjs": "javascript",
  ".cjs": "javascript",
  ".py": "python",
  ".rs": "rust",
  ".go": "go",
  ".java": "java",
  ".kt": "kotlin",
  ".rb": "ruby",
  ".cs": "csharp",
  ".c": "c",
  ".h": "c",
  ".cpp": "cpp",
  ".hpp": "cpp",
  ".swift": "swift",
  ".php": "php",
  ".sh": "shellscript",
  ".md": "markdown",
  ".markdown": "markdown",
  ".yaml": "yaml",
  ".yml": "yaml",
  ".json": "json",
  ".toml": "toml",
  ".html": "html",
  ".css": "css",
  ".sql": "sql",
  ".lua": "lua",
};

/** The language id of a path by its extension (`plaintext` when unknown). */
export function languageOf(path: string): string {
  return LANGUAGES[extname(path).toLowerCase()] ?? "plaintext";
}
