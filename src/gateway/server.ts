import { randomUUID } from "node:crypto";
import { createServer, STATUS_CODES } from "node:http";
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
} from "fastify";
import { isSubjectToken } from "../../contracts/index.js";
import { clientErrorAnswer, NotFoundError, toOpenAIError } from "../errors.js";
import type { Log } from "../log.js";
import { traceIdOf, validTraceparent } from "../observability/tracing.js";
import { assertJsonDepth } from "../request-text.js";
import { countRejection, instrumentHttp } from "./http/observability-hooks.js";

/** An OpenAI error body as JSON text, for answers written outside fastify's reply. */
const errorJson = (status: number, message: string, code: string) =>
  JSON.stringify({
    error: {
      message,
      type: status >= 500 ? "server_error" : "invalid_request_error",
      param: null,
      code,
    },
  });

/** A URL fit for logs: a key passed as `access_token` never reaches them. */
const loggableUrl = (url: string) => url.replace(/([?&]access_token=)[^&]*/g, "$1[redacted]");

/**
 * The gateway's fastify instance, before any route: request ids (a client's safe
 * `X-Request-Id`, else its traceparent's trace id), the slow-sender limit, the one error map
 * (every error becomes the OpenAI error body), request logging with keys redacted, and HTTP
 * metrics and spans.
 */
export function createGatewayServer(opts: {
  log: Log;
  bodyLimit: number;
  /** The whole request (headers and body) must arrive within this time. */
  receiveTimeoutMs: number;
}): FastifyInstance {
  const { bodyLimit, receiveTimeoutMs } = opts;
  const app = Fastify({
    loggerInstance: opts.log as FastifyBaseLogger,
    bodyLimit,
    // A client-supplied request id becomes the correlation id when it is a safe token; else
    // the trace id of a W3C traceparent, so logs and traces of one request share an id.
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      if (typeof given === "string" && isSubjectToken(given)) return given;
      return traceIdOf(validTraceparent(req.headers.traceparent)) ?? randomUUID();
    },
    // Requests are logged below, with keys passed in URLs redacted.
    logController: new LogController({
      requestIdLogLabel: "correlation_id",
      disableRequestLogging: true,
    }),
    // Slow senders: Node checks every `connectionsCheckingInterval`, so check often enough for
    // the limit to hold.
    serverFactory: (handler) => {
      const server = createServer(
        {
          requestTimeout: receiveTimeoutMs,
          headersTimeout: Math.min(receiveTimeoutMs, 60_000),
          connectionsCheckingInterval: Math.min(1_000, receiveTimeoutMs),
        },
        handler,
      );
      // An `Expect` other than 100-continue: Node answers 417 itself, with no body.
      server.on("checkExpectation", (_req, res) => {
        const body = errorJson(417, "Only 'Expect: 100-continue' is supported.", "invalid_request");
        res.writeHead(417, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          connection: "close",
        });
        res.end(body);
      });
      return server;
    },
    // Refusals before routing (a bad URL, a parameter too long) keep the OpenAI error shape.
    frameworkErrors: (err, req, reply) => {
      const { status, headers, body } = toOpenAIError(err, { bodyLimit });
      req.log.info({ status, code: body.error.code }, body.error.message);
      void (reply as FastifyReply).status(status).headers(headers).send(body);
    },
    // A request Node's parser cannot read (headers too large, bytes no URL may hold) is answered
    // in the OpenAI shape too, and the connection closed, saying so: nothing more can be read
    // from it.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      if (err.code === "ECONNRESET" || socket.destroyed) return;
      const { status, message } = clientErrorAnswer(err.code);
      opts.log.debug({ code: err.code, status }, "refused a request that is not valid HTTP");
      if (socket.writable) {
        const body = errorJson(status, message, "invalid_request");
        socket.write(
          `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\n` +
            `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
        );
      }
      socket.destroy();
    },
  });

  app.setErrorHandler((err, req, reply) => {
    const { status, headers, body } = toOpenAIError(err, { bodyLimit });
    countRejection(err, status);
    if (status >= 500) req.log.error({ err }, "request failed");
    else req.log.info({ status, code: body.error.code }, body.error.message);
    void reply.status(status).headers(headers).send(body);
  });
  app.setNotFoundHandler((req) => {
    throw new NotFoundError(`Unknown path ${req.method} ${req.url.split("?")[0]}`, "unknown_url");
  });
  app.addHook("onRequest", async (req) => {
    req.log.debug({ method: req.method, url: loggableUrl(req.url) }, "incoming request");
  });
  // Nesting is bounded before any handler walks a body (a walk of 10,000 levels overflows).
  app.addHook("preValidation", async (req) => {
    if (req.body !== null && typeof req.body === "object") assertJsonDepth(req.body);
  });
  app.addHook("onSend", async (req, reply) => {
    reply.header("x-request-id", req.id);
  });
  app.addHook("onResponse", async (req, reply) => {
    // An upgrade refused with an HTTP answer (401…) arrived on a socket the HTTP server no
    // longer tracks: end it, or it would outlive the answer and hold up shutdown.
    if (req.headers.upgrade && reply.statusCode !== 101) req.raw.socket?.end();
    req.log.info(
      {
        method: req.method,
        url: loggableUrl(req.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      "request completed",
    );
  });
  instrumentHttp(app);
  return app;
}
