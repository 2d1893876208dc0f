import * as acp from "@agentclientprotocol/sdk";
import { GatewayRequestError } from "./agent-gateway.js";

/** What to tell a user whose key is missing or refused. */
export const KEY_HINT =
  "set SEA_API_KEY (a key from `sea-gateway keys create`) in the agent's env, or run `sea-gateway acp --login`";

/**
 * Any failure as the ACP error a client shows: a refused key is -32000 (auth_required, which
 * Zed turns into its sign-in state), an unreachable gateway or a gateway failure -32603, a
 * request the gateway refused (an action the key may not run, a too-large file) -32602 with the
 * gateway's own message. Never anything that would end the process.
 */
export function toAcpError(err: unknown, gatewayUrl: string): acp.RequestError {
  if (err instanceof acp.RequestError) return err;
  if (err instanceof GatewayRequestError) {
    if (err.isAuth) {
      return acp.RequestError.authRequired(
        { status: err.status },
        `the SEA gateway at ${gatewayUrl} refused the key (${err.message}): ${KEY_HINT}`,
      );
    }
    if (err.status === 0) {
      return acp.RequestError.internalError(
        { status: 0 },
        `the SEA gateway at ${gatewayUrl} is unreachable (${err.message}): start it, or set SEA_GATEWAY_URL`,
      );
    }
    const data = { status: err.status, code: err.code };
    return err.status < 500
      ? acp.RequestError.invalidParams(data, err.message)
      : acp.RequestError.internalError(data, `the SEA gateway failed: ${err.message}`);
  }
  const message = err instanceof Error ? err.message : String(err);
  return acp.RequestError.internalError(undefined, message);
}
