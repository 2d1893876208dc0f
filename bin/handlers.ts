import type { Config } from "../src/config.js";
import { HandlerRegistry } from "../src/worker/handler.js";
import { echoHandler } from "../src/worker/handlers/echo.js";

/** The handlers this build registers. */
export function defaultHandlers(config: Config): HandlerRegistry {
  return new HandlerRegistry().register(echoHandler(config.echoDelayMs));
}
