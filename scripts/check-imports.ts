/**
 * The shape of the import graph, checked in `npm run lint` beside ESLint's dependency rule:
 *
 * 1. No import loop anywhere in contracts/, src/, adapters/, bin/ — type-only imports count too
 *    (a loop of types is still two modules that cannot be understood apart). Dynamic `import()`
 *    is not an edge: it is how bin/ loads a role's modules on demand.
 * 2. src/observability/ never imports src/gateway/ (the gateway uses observability, not the
 *    other way round; role processes carry no gateway code).
 * 3. Inside src/gateway/, no upward import: each folder has a layer (see LAYERS and
 *    docs/architecture.md) and imports only from its own layer or the ones below.
 *
 * Modules are resolved with TypeScript's own resolver and the project's tsconfig, so `.js`
 * specifiers find their `.ts` files exactly as the compiler does.
 */
import { readdirSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ROOTS = ["contracts", "src", "adapters", "bin"];

/** src/gateway/ folders by layer, lowest first; files directly in src/gateway/ are the top. */
export const LAYERS: readonly (readonly string[])[] = [
  ["commands"],
  ["runs"],
  ["admission"],
  ["chat", "editor", "events", "http", "responses"],
  ["sse", "ws", "mcp", "status"],
  ["routes"],
];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

const config = ts.getParsedCommandLineOfConfigFile(
  join(root, "tsconfig.json"),
  {},
  { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
);
const options = config?.options ?? {};
const files = ROOTS.flatMap((r) => tsFiles(join(root, r)));
const known = new Set(files);

/** Static imports and re-exports of a file (type-only ones included), resolved to our files. */
function importsOf(file: string): string[] {
  const source = ts.createSourceFile(file, ts.sys.readFile(file) ?? "", ts.ScriptTarget.Latest);
  const out: string[] = [];
  for (const st of source.statements) {
    const spec =
      (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) &&
      st.moduleSpecifier &&
      ts.isStringLiteral(st.moduleSpecifier)
        ? st.moduleSpecifier.text
        : null;
    if (!spec?.startsWith(".")) continue;
    const resolved = ts.resolveModuleName(spec, file, options, ts.sys).resolvedModule;
    const target = resolved?.resolvedFileName;
    if (target && known.has(resolve(target))) out.push(resolve(target));
  }
  return out;
}

const graph = new Map(files.map((f) => [f, importsOf(f)]));
const rel = (f: string) => relative(root, f).split(sep).join("/");
const problems: string[] = [];

// 1. Loops: strongly connected components (Tarjan) of more than one file, or a self-import.
{
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) !== idx.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1 || graph.get(v)?.includes(v)) {
      problems.push(`import loop: ${scc.map(rel).sort().join(" <-> ")}`);
    }
  };
  for (const f of files) if (!idx.has(f)) visit(f);
}

// 2 and 3. Direction.
const gatewayLayer = (f: string): number | null => {
  const p = rel(f);
  if (!p.startsWith("src/gateway/")) return null;
  const parts = p.slice("src/gateway/".length).split("/");
  if (parts.length === 1) return LAYERS.length;
  const layer = LAYERS.findIndex((names) => names.includes(parts[0]!));
  if (layer === -1) throw new Error(`${p}: src/gateway/${parts[0]}/ has no layer in LAYERS`);
  return layer;
};
for (const [from, targets] of graph) {
  for (const to of targets) {
    if (rel(from).startsWith("src/observability/") && rel(to).startsWith("src/gateway/")) {
      problems.push(`${rel(from)} imports ${rel(to)}: observability never imports the gateway`);
    }
    const a = gatewayLayer(from);
    const b = gatewayLayer(to);
    if (a !== null && b !== null && b > a) {
      problems.push(`${rel(from)} imports ${rel(to)}: an upward import inside src/gateway/`);
    }
  }
}

if (problems.length > 0) {
  for (const p of problems) process.stderr.write(`${p}\n`);
  process.exit(1);
}
process.stdout.write(`import graph: ${files.length} files, no loop, no upward import\n`);
