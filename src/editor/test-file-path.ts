import { posix as path } from "node:path";

/** `dir` with its last `from` segment renamed `to` (`src/main/java` → `src/test/java`). */
function swapSegment(dir: string, from: string, to: string): string {
  const parts = dir.split("/");
  const i = parts.lastIndexOf(from);
  if (i >= 0) parts[i] = to;
  return parts.join("/");
}

type Convention = (dir: string, name: string, ext: string) => string;

/**
 * How each language names a test file for a source file (data, not code). A Map: the language
 * comes from the request, and `__proto__` or `constructor` must find nothing, not an object's
 * inherited members.
 */
const CONVENTIONS = new Map<string, Convention>([
  ["python", (dir, name, ext) => path.join(dir, `test_${name}${ext}`)],
  ["go", (dir, name, ext) => path.join(dir, `${name}_test${ext}`)],
  ["rust", (dir, name, ext) => path.join(swapSegment(dir, "src", "tests"), `${name}${ext}`)],
  ["java", (dir, name, ext) => path.join(swapSegment(dir, "main", "test"), `${name}Test${ext}`)],
  ["kotlin", (dir, name, ext) => path.join(swapSegment(dir, "main", "test"), `${name}Test${ext}`)],
  ["ruby", (dir, name, ext) => path.join(swapSegment(dir, "lib", "spec"), `${name}_spec${ext}`)],
  ["csharp", (dir, name, ext) => path.join(dir, `${name}Tests${ext}`)],
]);

/** `dir/name.test.ext`: TypeScript, JavaScript and anything without a convention above. */
const fallback: Convention = (dir, name, ext) => path.join(dir, `${name}.test${ext}`);

/**
 * Where the tests of a source file go, by the language's convention: `foo.ts` → `foo.test.ts`,
 * `pkg/foo.py` → `pkg/test_foo.py`, `foo.go` → `foo_test.go`, `src/main/java/A.java` →
 * `src/test/java/ATest.java`, `src/lib.rs` → `tests/lib.rs`.
 */
export function testFilePath(sourcePath: string, language: string): string {
  const ext = path.extname(sourcePath);
  const name = path.basename(sourcePath, ext);
  const convention = CONVENTIONS.get(language.toLowerCase()) ?? fallback;
  return convention(path.dirname(sourcePath), name, ext);
}
