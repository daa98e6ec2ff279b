/**
 * The one registration path: every dialect's operations become POST routes the same way —
 * authenticate first (once the raw body has arrived, before anything about it is checked), count
 * an expensive call against the tenant's limit, run the engine call inside its audit context,
 * count it, time imports — and every error and unknown request is answered by its dialect.
 */
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ImportEngine } from '../../engine/import-engine.js';
import { ByokError, isByokError } from '../../errors.js';
import type { Credentials } from '../auth.js';
import type { Metrics } from '../metrics.js';
import { checkBody, rawBodyOf } from '../request-body.js';
import type { TenantRateLimit } from '../rate-limits.js';
import type { Body, Dialect, DispatchRoute, Operation, Reply } from './dialect.js';
import { HTTP_STATUS } from './wire-errors.js';

export interface DialectDeps {
  readonly dialects: readonly Dialect[];
  readonly engine: ImportEngine;
  readonly auth: Credentials;
  readonly metrics: Metrics;
  readonly bodyLimit: number;
  /** The per-tenant limits of the expensive calls; absent: none. */
  readonly rateLimit?: TenantRateLimit;
}

interface RouteTag {
  readonly dialect: string;
  /** Absent on a dialect's dispatch route: the request names its operation (`dispatchedActions`). */
  readonly action?: string;
}

/** The operation each request on a dispatch route named, once it is known to be one of the dialect's. */
const dispatchedActions = new WeakMap<FastifyRequest, string>();

/** What a dialect's bodies are unless it says otherwise. */
const DEFAULT_MEDIA_TYPES = ['application/json'] as const;

/** The metric label of a request that matched no operation: never the caller's text (issue 14, defect 3). */
export const UNKNOWN_ACTION = 'unknown';

/**
 * The request's dialect and action: from its route, else the first dialect that owns it (else
 * the first) with the action `unknown`. The action is always one of the dialect's operation names.
 */
export function dialectOf(dialects: readonly Dialect[], req: FastifyRequest): { dialect: Dialect; action: string } {
  const tag = req.routeOptions?.config as Partial<RouteTag> | undefined;
  const routed = tag?.dialect !== undefined ? dialects.find((d) => d.name === tag.dialect) : undefined;
  const action = tag?.action ?? dispatchedActions.get(req);
  if (routed && routed.operations.some((o) => o.name === action)) return { dialect: routed, action: action! };
  return { dialect: routed ?? dialects.find((d) => d.owns(req)) ?? dialects[0], action: UNKNOWN_ACTION };
}

/**
 * The answer to a `POST /` that no dialect owns (no X-TC-Action, no X-Amz-Target): a 400 that
 * every vendor's client raises as an error — AWS clients read `__type`, Tencent's and Huawei's
 * read any non-200 — never a 200 that an AWS client would take for an empty success.
 */
export function unknownOperation(): Reply & { contentType: string } {
  return {
    status: 400, contentType: 'application/x-amz-json-1.1',
    body: { __type: 'UnknownOperationException', message: 'The request names no operation: set X-TC-Action (Tencent) or X-Amz-Target (AWS), or POST to /v1.0/{project_id}/kms/<action> (Huawei).' },
  };
}

/** Any thrown value as the dialect sends it. Non-ByokErrors become a generic 500: no message, no stack. */
export function errorReply(dialect: Dialect, e: unknown, requestId: string): Reply {
  const err = isByokError(e) ? e : new ByokError('INTERNAL_ERROR');
  return dialect.error({ code: dialect.errorCodes[err.code], message: err.message, status: HTTP_STATUS[err.code] }, requestId);
}

export function registerDialects(app: FastifyInstance, deps: DialectDeps): void {
  const { engine, auth, metrics, rateLimit } = deps;
  const tenants = new WeakMap<FastifyRequest, string>();

  // Authenticate before anything about the body is reported (a signature covers its raw bytes):
  // a caller without credentials learns nothing about the API. The limit counts authenticated
  // requests only.
  const admit = async (dialect: Dialect, operation: Operation | undefined, req: FastifyRequest, reply: FastifyReply) => {
    const tenant = dialect.authenticate(req, auth, rawBodyOf(req));
    checkBody(req, dialect.mediaTypes ?? DEFAULT_MEDIA_TYPES);
    tenants.set(req, tenant);
    if (operation?.limit && rateLimit) await rateLimit(operation.limit, tenant, req, reply);
  };

  const serve = async (dialect: Dialect, operation: Operation, req: FastifyRequest, reply: FastifyReply) => {
    const tenant = tenants.get(req)!;
    const started = operation.metric === 'import' ? process.hrtime.bigint() : undefined;
    let result: object;
    try {
      // Its audit records carry the request (the engine view labels them; no AsyncLocalStorage).
      result = await operation.run(engine.withAuditContext({ requestId: req.id, dialect: dialect.name, action: operation.name }), tenant, req.body as Body);
    } finally {
      if (started !== undefined) metrics.observeImport(Number(process.hrtime.bigint() - started) / 1e9);
    }
    metrics.countRequest(dialect.name, operation.name, 200);
    return reply.send(dialect.success(result, req.id));
  };

  for (const dialect of deps.dialects) {
    for (const c of dialect.constraints ?? []) if (!app.hasConstraintStrategy(c.name)) app.addConstraintStrategy(c as never);
    if (dialect.dispatch) {
      registerDispatchRoute(app, dialect, dialect.dispatch, deps, admit, serve);
      continue;
    }
    for (const operation of dialect.operations) {
      const route = dialect.route(operation);
      const config: RouteTag & FastifyContextConfig = { dialect: dialect.name, action: operation.name };
      app.post(route.url, {
        schema: { body: operation.body, ...(route.params ? { params: route.params } : {}) },
        ...(route.constraints ? { constraints: route.constraints } : {}),
        bodyLimit: deps.bodyLimit,
        config,
        preValidation: (req, reply) => admit(dialect, operation, req, reply),
      }, (req, reply) => serve(dialect, operation, req, reply));
    }
  }
}

type Admit = (dialect: Dialect, operation: Operation | undefined, req: FastifyRequest, reply: FastifyReply) => Promise<void>;
type Serve = (dialect: Dialect, operation: Operation, req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;

/**
 * One route for all of a dialect's operations, the request naming its operation (AWS's
 * X-Amz-Target): authenticated like any route, then the named operation's body schema is checked
 * with the context's validator (as fastify checks a route's), and an operation the dialect does
 * not have is its `notFound` answer.
 */
function registerDispatchRoute(app: FastifyInstance, dialect: Dialect, dispatch: DispatchRoute, deps: DialectDeps, admit: Admit, serve: Serve): void {
  const { route } = dispatch;
  const operations = new Map(dialect.operations.map((operation) => [operation.name, {
    operation,
    validate: app.validatorCompiler!({ schema: operation.body, method: 'POST', url: route.url, httpPart: 'body' }) as ValidateFunction,
  }]));
  const config: RouteTag & FastifyContextConfig = { dialect: dialect.name };
  app.post(route.url, {
    ...(route.params ? { schema: { params: route.params } } : {}),
    ...(route.constraints ? { constraints: route.constraints } : {}),
    bodyLimit: deps.bodyLimit,
    config,
    preValidation: async (req, reply) => {
      const named = operations.get(dispatch.operationOf(req) ?? '');
      if (named) dispatchedActions.set(req, named.operation.name);
      await admit(dialect, named?.operation, req, reply);
    },
  }, async (req, reply) => {
    const named = operations.get(dispatchedActions.get(req) ?? '');
    if (!named) {
      const { status, body } = dialect.notFound(req);
      deps.metrics.countRequest(dialect.name, UNKNOWN_ACTION, status);
      return reply.status(status).send(body);
    }
    if (!named.validate(req.body)) {
      const detail = (named.validate.errors ?? []).map((e) => `body${e.instancePath} ${e.message ?? 'is invalid'}`).join(', ');
      throw new ByokError('INVALID_PARAMETER', `Invalid request: ${detail}`);
    }
    return serve(dialect, named.operation, req, reply);
  });
}

/** What an ajv validator (the context's validatorCompiler) returns. */
interface ValidateFunction {
  (data: unknown): boolean;
  errors?: Array<{ instancePath: string; message?: string }> | null;
}
