import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AdminRequiredError, GatewayError } from "../../errors.js";
import type { StatusSource } from "../../observability/status-report.js";
import type { Principal, RevocationList, TokenVerifier } from "../../ports.js";
import { authenticate } from "../http/auth.js";
import { loginPage, STATUS_PAGE } from "../status/status-page.js";

/** What the status routes need. */
export interface StatusRouteOptions {
  status: StatusSource;
  verifier: TokenVerifier;
  revocations?: RevocationList | undefined;
}

/** A key with the `admin` claim, or the error saying why not (401, 403). */
async function admin(req: FastifyRequest, opts: StatusRouteOptions): Promise<Principal> {
  const principal = await authenticate(req, opts.verifier, opts.revocations);
  if (!principal.admin) throw new AdminRequiredError();
  return principal;
}

/** The page's headers: never cached, never framed, no referrer (a key may be in the URL). */
function pageHeaders(reply: FastifyReply): FastifyReply {
  return reply.headers({
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
  });
}

/**
 * `GET /status` (the page: HTML, no build step, no external resource) and `GET /status.json`
 * (what it polls), both for admin keys only. A browser gives the key once as
 * `?access_token=`; the page keeps it in sessionStorage and sends it as a bearer header. Without
 * a good key `/status` answers 401 (403 for a key without `admin`) with a small login form.
 */
export async function statusRoutes(app: FastifyInstance, opts: StatusRouteOptions): Promise<void> {
  app.get("/status", async (req, reply) => {
    try {
      await admin(req, opts);
    } catch (err) {
      const status = err instanceof GatewayError ? err.status : 401;
      const given = typeof (req.query as { access_token?: unknown }).access_token === "string";
      return pageHeaders(reply)
        .status(status)
        .send(
          loginPage(status === 403 ? "This key has no admin claim." : given ? "Key refused." : ""),
        );
    }
    return pageHeaders(reply).send(STATUS_PAGE);
  });
  app.get("/status.json", async (req, reply) => {
    await admin(req, opts);
    return reply.header("cache-control", "no-store").send(await opts.status.snapshot());
  });
}
