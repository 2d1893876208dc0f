import type { ContextName } from "../contracts/index.js";
import { httpHandler } from "../adapters/handlers/http-handler.js";
import { openaiUpstreamHandler } from "../adapters/handlers/openai-upstream.js";
import type { CapabilityCatalog } from "../src/catalog.js";
import { ConfigError, type Config } from "../src/config.js";
import { HandlerRegistry } from "../src/worker/handler.js";
import { echoHandler } from "../src/worker/handlers/echo.js";

/** The handlers a context's worker runs: `echo` always, `openai` and `http` when configured. */
export function contextHandlers(config: Config, ctx: ContextName): HandlerRegistry {
  const registry = new HandlerRegistry().register(echoHandler(config.echoDelayMs));
  if (config.upstream.baseUrl) {
    registry.register(
      openaiUpstreamHandler({ baseUrl: config.upstream.baseUrl, apiKey: config.upstream.apiKey }),
    );
  }
  const url = config.handlerUrls[ctx];
  if (url) registry.register(httpHandler({ url, timeoutMs: config.handlerTimeoutMs }));
  return registry;
}

/**
 * Fails boot when the catalog names a handler a context's worker would not have, or an action's
 * handler that does not run editor actions.
 */
export function checkCatalogHandlers(
  catalog: CapabilityCatalog,
  registries: Partial<Record<ContextName, HandlerRegistry>>,
): void {
  const problems: string[] = [];
  for (const [ctx, registry] of Object.entries(registries) as [ContextName, HandlerRegistry][]) {
    for (const name of catalog.handlersOf(ctx)) {
      if (!registry.get(name)) {
        const hint =
          name === "openai"
            ? "set UPSTREAM_OPENAI_BASE_URL"
            : name === "http"
              ? `set ${ctx.toUpperCase()}_HANDLER_URL`
              : "no such handler";
        problems.push(`CAPABILITIES_FILE: ${ctx} capability uses handler '${name}': ${hint}`);
      }
    }
  }
  for (const [ctx, registry] of Object.entries(registries) as [ContextName, HandlerRegistry][]) {
    for (const c of catalog.list()) {
      const handler = c.kind === "chat" && c.context === ctx ? registry.get(c.handler) : undefined;
      if (c.kind !== "chat" || !handler) continue;
      const beyond = catalog.honours(c).filter((f) => !(handler.honours ?? []).includes(f));
      if (beyond.length > 0) {
        problems.push(
          `CAPABILITIES_FILE: ${ctx} model '${c.id}' honours ${beyond.join(", ")}, which handler '${c.handler}' cannot`,
        );
      }
    }
    for (const name of catalog.handlersOf(ctx, "action")) {
      const handler = registry.get(name);
      if (handler && !handler.handleAction) {
        problems.push(
          `CAPABILITIES_FILE: ${ctx} action uses handler '${name}', which does not run editor actions`,
        );
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
