/**
 * The HTTP service: both wire dialects over one engine, auth, validation, errors through the
 * one table, request IDs, structured logs, /healthz and /metrics.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ImportEngine } from '../engine/import-engine.js';
import { ByokError, isByokError } from '../errors.js';
import type { AuthTokens } from './auth.js';
import { huaweiErrorBody, registerHuaweiRoutes } from './huawei-routes.js';
import { Metrics } from './metrics.js';
import { registerTencentActions, TC_ACTION_HEADER, tencentActionConstraint, tencentErrorBody } from './tencent-actions.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the route's onRequest hook from the API token. */
    tenant: string;
  }
}

export interface ServerOptions {
  readonly engine: ImportEngine;
  readonly auth: AuthTokens;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Bytes (default 64 KiB; the largest legitimate body is an RSA-4096 import, ~7 KiB). */
  readonly bodyLimit?: number;
}

/** Framework errors that are the client's fault, as a clear ByokError (never the raw error). */
function clientError(err: FastifyError): ByokError | undefined {
  if (err.validation) return new ByokError('INVALID_PARAMETER', `Invalid request: ${err.message}`);
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return new ByokError('INVALID_PARAMETER', 'The request body is too large.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return new ByokError('INVALID_PARAMETER', 'The request body is not valid JSON.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return new ByokError('INVALID_PARAMETER', 'The request body is empty.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return new ByokError('INVALID_PARAMETER', 'The request body must be application/json.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return new ByokError('INVALID_PARAMETER', 'The Content-Length does not match the body.');
    default: return undefined;
  }
}

function routeConfig(req: FastifyRequest): { dialect?: string; action?: string } {
  return (req.routeOptions?.config as { dialect?: string; action?: string } | undefined) ?? {};
}

export function buildServer(options: ServerOptions): { app: FastifyInstance; metrics: Metrics } {
  const metrics = options.metrics ?? new Metrics();
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    genReqId: () => randomUUID(),
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    // Unknown fields and wrong types are errors, not silently dropped or coerced.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    routerOptions: { constraints: { tcAction: tencentActionConstraint as never } },
    // While closing, new requests get a 503 in their own dialect (the onRequest hook below).
    return503OnClosing: false,
  });

  // Both dialects speak JSON only: any other body type is refused with a clear message.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('tenant', '');
  // While closing: in-flight requests finish and are answered with Connection: close (so their
  // keep-alive sockets do not hold the shutdown open); new ones get a 503.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async () => {
    if (closing) throw new ByokError('BACKEND_UNAVAILABLE', 'The service is shutting down.');
  });
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
    if (closing) reply.header('connection', 'close');
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const known = isByokError(err) ? err : clientError(err);
    if (!known) {
      // The message of a foreign error may carry bytes: log its type and frames, never its text.
      req.log.error({ err: { type: err.name, code: err.code, stack: err.stack?.split('\n').slice(1).join('\n') } }, 'internal error');
    } else {
      req.log[known.fault === 'server' ? 'error' : 'info']({ errorCode: known.code }, 'request refused');
    }
    const error = known ?? new ByokError('INTERNAL_ERROR');
    metrics.countError(error.code);
    const { dialect, action } = routeConfig(req);
    if (dialect === 'tencent' || (dialect === undefined && req.url === '/')) {
      const { body } = tencentErrorBody(error, req.id);
      metrics.countRequest('tencent', action ?? String(req.headers[TC_ACTION_HEADER] ?? ''), 200);
      return reply.status(200).send(body);
    }
    const { status, body } = huaweiErrorBody(error);
    metrics.countRequest('huawei', action ?? '', status);
    return reply.status(status).send(body);
  });

  app.setNotFoundHandler((req, reply) => {
    if (req.method === 'POST' && req.url === '/') {
      const action = req.headers[TC_ACTION_HEADER];
      const { body } = tencentErrorBody(new ByokError('INVALID_PARAMETER'), req.id, {
        code: 'InvalidAction', message: action ? `The action ${String(action).slice(0, 64)} is not supported.` : 'The X-TC-Action header is required.',
      });
      metrics.countRequest('tencent', 'unknown', 200);
      return reply.status(200).send(body);
    }
    metrics.countRequest('huawei', 'unknown', 404);
    return reply.status(404).send({ error: { error_code: 'KMS.0404', error_msg: 'Not found.' } });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4').send(metrics.render()));

  registerHuaweiRoutes(app, { engine: options.engine, auth: options.auth, metrics });
  registerTencentActions(app, { engine: options.engine, auth: options.auth, metrics });
  return { app, metrics };
}
