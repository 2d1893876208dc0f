import { readFileSync, statSync } from "node:fs";
import type { Log } from "../../src/log.js";
import type { RevocationList } from "../../src/ports.js";

/**
 * Revoked key ids from a file (one `jti` per line, `#` comments), re-read when it changes: the
 * file's modification time is checked at most once a second, so a revocation takes effect
 * within a second without a restart. A missing file revokes nothing; an unreadable one keeps
 * the last good list.
 */
export class FileRevocationList implements RevocationList {
  private revoked = new Set<string>();
  private mtimeMs = -1;
  private checkedAt = 0;

  constructor(
    private readonly file: string,
    private readonly log: Log,
  ) {
    this.refresh();
  }

  isRevoked(keyId: string): boolean {
    if (Date.now() - this.checkedAt >= 1000) this.refresh();
    return this.revoked.has(keyId);
  }

  private refresh(): void {
    this.checkedAt = Date.now();
    let mtime: number;
    try {
      mtime = statSync(this.file).mtimeMs;
    } catch {
      if (this.mtimeMs !== 0) this.revoked = new Set();
      this.mtimeMs = 0;
      return;
    }
    if (mtime === this.mtimeMs) return;
    try {
      const ids = readFileSync(this.file, "utf8")
        .split("\n")
        .map((l) => l.replace(/#.*/, "").trim())
        .filter(Boolean);
      this.revoked = new Set(ids);
      this.mtimeMs = mtime;
      this.log.info({ file: this.file, revoked: ids.length }, "revocation list loaded");
    } catch (err) {
      this.log.error(
        { err, file: this.file },
        "could not read the revocation list; keeping the last",
      );
    }
  }
}
