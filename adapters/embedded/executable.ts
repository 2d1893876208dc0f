import { accessSync, constants } from "node:fs";
import path from "node:path";

/** The full path of `name` on PATH, or null when it is not installed. */
export function findExecutable(name: string, envPath = process.env.PATH ?? ""): string | null {
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}
