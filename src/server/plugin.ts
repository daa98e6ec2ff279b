/**
 * The service as a fastify plugin: mount it in an existing fastify app (`app.register(byokService,
 * { engine, auth })`) or let `buildServer` run it standalone. It is encapsulated (no
 * fastify-plugin wrapper): its validator, error handler, hooks and content-type rules apply to
 * its own routes only, never to the host's.
 */
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import type { ImportEngine, Readiness } from '../engine/import-engine.js';
import { ByokError } from '../errors.js';
import type { Credentials } from './auth.js';
import type { Dialect } from './dialects/dialect.js';
import { DIALECTS } from './dialects/index.js';
import { dialectOf, registerDialects, UNKNOWN_ACTION, unknownOperation } from './dialects/register.js';
import { errorAnswer } from './framework-errors.js';
import { Metrics } from './metrics.js';
import { DEFAULT_RATE_LIMITS, tenantRateLimit, type RateLimits } from './rate-limits.js';
import { installBodyParser } from './request-body.js';

/** The plugin's options: an open engine (the host owns and closes it) and the credentials (API tokens, access keys). */
export interface ServicePluginOptions {
  readonly engine: ImportEngine;
  readonly auth: Credentials;
  /** Counters the host may render itself; default a fresh set. */
  readonly metrics?: Metrics;
  /** Bytes (default 64 KiB; the largest legitimate body is an RSA-4096 import, ~7 KiB). */
  readonly bodyLimit?: number;
  /** Answer requests that match no route in the dialects' formats (default false: the host's 404 stays). */
  readonly notFound?: boolean;
  /** Also serve GET /healthz (liveness), GET /readyz (readiness) and GET /metrics (default false). */
  readonly operationalRoutes?: boolean;
  /** Requests per second per tenant for get-parameters-for-import and imports (0: none); default 100 each. */
  readonly rateLimits?: RateLimits;
  /** Default: every dialect (DIALECTS). */
  readonly dialects?: readonly Dialect[];
}

/** Unknown fields and wrong types are errors, not silently dropped or coerced: whatever the host's ajv settings. */
const AJV_OPTIONS = { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } as const;

type ValidatorCompiler = Parameters<FastifyInstance['setValidatorCompiler']>[0];
let strictCompiler: ValidatorCompiler | undefined;

/** fastify's own ajv compiler with our options, resolved from fastify's location (its dependency, not ours). */
function strictValidatorCompiler(): ValidatorCompiler {
  if (!strictCompiler) {
    const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
    const { AjvCompiler } = fromFastify('@fastify/ajv-compiler') as { AjvCompiler: () => (external: object, options: object) => ValidatorCompiler };
    strictCompiler = AjvCompiler()({}, { customOptions: AJV_OPTIONS });
  }
  return strictCompiler;
}

/** A readiness check that does not answer within this counts as not ready (a hung store must not hang the probe). */
const READINESS_TIMEOUT_MS = 2000;

async function readinessWithin(engine: ImportEngine, ms: number): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Readiness>((resolve) => {
    timer = setTimeout(() => resolve({ store: `The readiness checks did not answer within ${ms} ms.` }), ms);
  });
  try {
    return await Promise.race([engine.readiness(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The fastify plugin: both dialects over one engine, in an encapsulated context of the host app. */
export async function byokService(app: FastifyInstance, options: ServicePluginOptions): Promise<void> {
  const dialects: readonly Dialect[] = options.dialects ?? DIALECTS;
  const metrics = options.metrics ?? new Metrics();
  app.setValidatorCompiler(strictValidatorCompiler());
  // Raw bodies kept for the signatures; a body that is not JSON (or not the dialect's media
  // type) is refused with a clear message, after authentication.
  installBodyParser(app);

  // While closing: in-flight requests finish and are answered with Connection: close (so their
  // keep-alive sockets do not hold the shutdown open); new ones get a 503 in their own dialect.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async () => {
    if (closing) throw new ByokError('BACKEND_UNAVAILABLE', 'The service is shutting down.');
  });
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
    // The time signatures are checked against (a shifted clock in drills): the AWS SDKs correct
    // their clock skew from it and retry, as they do against AWS.
    reply.header('date', new Date(options.auth.clock.now()).toUTCString());
    if (closing) reply.header('connection', 'close');
    // Some clients need the exact type (Tencent's Python SDK reads errors from application/json only).
    const { contentType, requestIdHeader } = dialectOf(dialects, req).dialect;
    if (requestIdHeader !== undefined) reply.header(requestIdHeader, req.id);
    if (contentType !== undefined && String(reply.getHeader('content-type')).startsWith('application/json')) reply.header('content-type', contentType);
  });

  app.setErrorHandler(errorAnswer(dialects, metrics));

  if (options.notFound) {
    app.setNotFoundHandler((req, reply) => {
      const { dialect } = dialectOf(dialects, req);
      if (req.method === 'POST' && req.url === '/' && !dialects.some((d) => d.owns(req))) {
        const { status, body, contentType } = unknownOperation();
        metrics.countRequest(dialect.name, UNKNOWN_ACTION, status);
        return reply.status(status).type(contentType).send(body);
      }
      const { status, body } = dialect.notFound(req);
      metrics.countRequest(dialect.name, UNKNOWN_ACTION, status);
      return reply.status(status).send(body);
    });
  }

  if (options.operationalRoutes) {
    // Liveness (a supervisor restarts on failure): the process answers; nothing else is checked.
    app.get('/healthz', async () => ({ status: 'ok' }));
    // Readiness (a load balancer routes only to ready instances): a store round trip and the
    // backend's own check; 503 with the reason of each part that is not usable.
    app.get('/readyz', async (_req, reply) => {
      const notReady = await readinessWithin(options.engine, READINESS_TIMEOUT_MS);
      // A device backend says what it can do (in the device, on the host, unsupported and why).
      const report = options.engine.capabilityReport();
      const capabilities = report ? { capabilities: report } : {};
      if (notReady.store === undefined && notReady.backend === undefined) return { status: 'ready', ...capabilities };
      return reply.status(503).send({ status: 'unready', ...notReady, ...capabilities });
    });
    app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4').send(metrics.render()));
  }

  const rateLimit = await tenantRateLimit(app, options.rateLimits ?? DEFAULT_RATE_LIMITS);
  registerDialects(app, {
    dialects, engine: options.engine, auth: options.auth, metrics, bodyLimit: options.bodyLimit ?? 64 * 1024, ...(rateLimit ? { rateLimit } : {}),
  });
}
