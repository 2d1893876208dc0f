import { chmod, mkdir, rename, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { dirname } from "node:path";

/** What `sea-gateway acp --login` keeps: the gateway and the key. */
export interface StoredLogin {
  gatewayUrl: string;
  apiKey: string;
}

/** The stored login, or null when there is none (or it is unreadable). */
export function readLogin(file: string): StoredLogin | null {
  try {
    const v = JSON.parse(readFileSync(file, "utf8")) as Partial<StoredLogin>;
    return typeof v.gatewayUrl === "string" && typeof v.apiKey === "string"
      ? { gatewayUrl: v.gatewayUrl, apiKey: v.apiKey }
      : null;
  } catch {
    return null;
  }
}

/**
 * Stores a login readable by its owner only (0600, its directory 0700), written to a temporary
 * file and renamed, so a reader never sees half of it.
 */
export async function writeLogin(file: string, login: StoredLogin): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(login, null, 2) + "\n", { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}
