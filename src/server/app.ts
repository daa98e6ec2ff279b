/**
 * The standalone HTTP app: a fastify instance of our own (request IDs, our logger, a 503 in the
 * caller's dialect while closing) with the service plugin mounted at the root, answering unknown
 * requests and serving /healthz and /metrics. Embedders mount `byokService` in their own app.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { HttpTimeouts } from '../config/config.js';
import { SETTINGS } from '../config/settings.js';
import type { ImportEngine } from '../engine/import-engine.js';
import type { Credentials } from './auth.js';
import type { Dialect } from './dialects/dialect.js';
import { DIALECTS } from './dialects/index.js';
import { errorAnswer, socketErrorAnswer } from './framework-errors.js';
import { Metrics } from './metrics.js';
import { byokConsole } from './console/console-plugin.js';
import { byokService } from './plugin.js';
import type { RateLimits } from './rate-limits.js';

/** The standalone app's inputs: an open engine, its credentials (API tokens, access keys), a pino logger. */
export interface ServerOptions {
  readonly engine: ImportEngine;
  readonly auth: Credentials;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Bytes (default 64 KiB; the largest legitimate body is an RSA-4096 import, ~7 KiB). */
  readonly bodyLimit?: number;
  /** Default: the settings' defaults (30 s request, 10 s headers, 5 s keep-alive, 60 s idle). */
  readonly timeouts?: HttpTimeouts;
  /** Per-tenant requests per second of the expensive calls (default 100 each; 0: none). */
  readonly rateLimits?: RateLimits;
  /** Default: every dialect (DIALECTS). */
  readonly dialects?: readonly Dialect[];
  /** Serve the web console at /console (default false). */
  readonly console?: boolean;
}

const DEFAULT_TIMEOUTS: HttpTimeouts = {
  requestMs: SETTINGS.requestTimeoutMs.default, headersMs: SETTINGS.headersTimeoutMs.default,
  keepAliveMs: SETTINGS.keepAliveTimeoutMs.default, idleMs: SETTINGS.idleTimeoutMs.default,
};

/**
 * fastify's and node's server options for the timeouts. node checks the request and headers
 * timeouts every `connectionsCheckingInterval` (30 s by default): it is tied to the shorter one
 * so a slow client is closed close to its deadline, not up to 30 s later.
 */
function timeoutOptions(t: HttpTimeouts) {
  return {
    requestTimeout: t.requestMs,
    keepAliveTimeout: t.keepAliveMs,
    connectionTimeout: t.idleMs,
    http: { headersTimeout: t.headersMs, requestTimeout: t.requestMs, connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(t.headersMs / 4))) },
  };
}

/** The standalone fastify app (not listening): the plugin at the root, unknown requests and /healthz, /metrics. */
export function buildServer(options: ServerOptions): { app: FastifyInstance; metrics: Metrics } {
  const metrics = options.metrics ?? new Metrics();
  const dialects: readonly Dialect[] = options.dialects ?? DIALECTS;
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    genReqId: () => randomUUID(),
    // While closing, new requests get a 503 in their own dialect (the plugin's onRequest hook).
    return503OnClosing: false,
    ...timeoutOptions(options.timeouts ?? DEFAULT_TIMEOUTS),
    // Root-only options: errors before routing (a malformed URL) and at the socket, in a dialect's format.
    frameworkErrors: errorAnswer(dialects, metrics),
    clientErrorHandler: socketErrorAnswer(dialects),
  });
  // A request answered before its body arrived (refused in onRequest: no credentials) is no longer
  // under node's request timeout, and its trickling body would keep the socket for ever: it gets
  // the request timeout again to finish sending, then the socket is closed.
  const { requestMs } = options.timeouts ?? DEFAULT_TIMEOUTS;
  app.addHook('onResponse', async (req) => {
    if (req.raw.complete) return;
    const deadline = setTimeout(() => req.raw.socket?.destroy(), requestMs);
    deadline.unref();
    req.raw.once('end', () => clearTimeout(deadline)).once('close', () => clearTimeout(deadline));
  });
  app.register(byokService, {
    engine: options.engine, auth: options.auth, metrics, notFound: true, operationalRoutes: true,
    ...(options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {}),
    ...(options.rateLimits ? { rateLimits: options.rateLimits } : {}),
    ...(options.dialects ? { dialects: options.dialects } : {}),
  });
  if (options.console) app.register(byokConsole, { prefix: '/console' });
  return { app, metrics };
}
