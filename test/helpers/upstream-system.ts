import { contextHandlers } from "../../bin/handlers.js";
import type { TestWorld } from "./env.js";
import type { MockUpstream } from "./mock-upstream.js";
import { startTestSystem, testCatalog, type TestSystem } from "./system.js";

/**
 * A test system whose models `up-<m>` are served by the `openai` handler from the started mock
 * `upstream`'s model `m` (context sea), with sea's workers running.
 */
export async function startUpstreamSystem(
  world: TestWorld,
  upstream: MockUpstream,
  models: readonly string[],
): Promise<TestSystem> {
  const env = { UPSTREAM_OPENAI_BASE_URL: upstream.baseUrl, UPSTREAM_OPENAI_API_KEY: "sk-up" };
  const catalog = testCatalog(
    models.map((m) => ({
      id: `up-${m}`,
      context: "sea" as const,
      handler: "openai",
      upstream_model: m,
    })),
  );
  const system = await startTestSystem(world, catalog, env);
  await system.startWorkers(contextHandlers(world.config(env), "sea"), ["sea"]);
  return system;
}
