/**
 * The standalone HTTP app: a fastify instance of our own (request IDs, our logger, a 503 in the
 * caller's dialect while closing) with the service plugin mounted at the root, answering unknown
 * requests and serving /healthz and /metrics. Embedders mount `byokService` in their own app.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ImportEngine } from '../engine/import-engine.js';
import type { AuthTokens } from './auth.js';
import { DIALECTS } from './dialects/index.js';
import { errorAnswer, socketErrorAnswer } from './framework-errors.js';
import { Metrics } from './metrics.js';
import { byokService } from './plugin.js';

/** The standalone app's inputs: an open engine, its API tokens, a pino logger. */
export interface ServerOptions {
  readonly engine: ImportEngine;
  readonly auth: AuthTokens;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Bytes (default 64 KiB; the largest legitimate body is an RSA-4096 import, ~7 KiB). */
  readonly bodyLimit?: number;
}

/** The standalone fastify app (not listening): the plugin at the root, unknown requests and /healthz, /metrics. */
export function buildServer(options: ServerOptions): { app: FastifyInstance; metrics: Metrics } {
  const metrics = options.metrics ?? new Metrics();
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    genReqId: () => randomUUID(),
    // While closing, new requests get a 503 in their own dialect (the plugin's onRequest hook).
    return503OnClosing: false,
    // Root-only options: errors before routing (a malformed URL) and at the socket, in a dialect's format.
    frameworkErrors: errorAnswer(DIALECTS, metrics),
    clientErrorHandler: socketErrorAnswer(DIALECTS),
  });
  app.register(byokService, {
    engine: options.engine, auth: options.auth, metrics, notFound: true, operationalRoutes: true,
    ...(options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {}),
  });
  return { app, metrics };
}
