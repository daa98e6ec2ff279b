/**
 * `byok-hsm/server`: the KMS import service as a library. Run it standalone (`startService`),
 * build the app without listening (`createServer`), or mount the plugin in an existing fastify
 * app (`app.register(byokService, { engine, auth })`). fastify and pino are loaded only when a
 * server is built: without them, these calls fail with DEPENDENCY_MISSING naming the package.
 */
import { loadOptional } from '../optional-dependency.js';
import type { ServerOptions } from './app.js';
import type { RunningService, ServiceOptions } from './bootstrap.js';

export { byokService } from './plugin.js';
export type { ServicePluginOptions } from './plugin.js';
export { AuthTokens, Credentials, loadAuthTokens, parseTokenPairs } from './auth.js';
export { AccessKeys, parseAccessKeys } from './signing/access-keys.js';
export type { AccessKey } from './signing/access-keys.js';
export type { LoadedAuth } from './auth.js';
export { auditLine, auditSink } from './audit.js';
export type { AuditLogger, RequestContext } from './audit.js';
export type { AuditLine } from './audit.js';
export { Metrics } from './metrics.js';
export { DIALECTS } from './dialects/index.js';
export type { Dialect, DialectName, Operation } from './dialects/index.js';
export type { Body, DispatchRoute, Reply, RouteConstraint, RouteShape, WireFailure } from './dialects/dialect.js';
export type { AuthSource, HttpTimeouts, RateLimits, ServiceConfig } from '../config/config.js';
export { HTTP_STATUS, WIRE_ERRORS } from './dialects/wire-errors.js';
export type { HttpStatus, WireError } from './dialects/wire-errors.js';
export type { LimitedCall } from './rate-limits.js';
export type { ServerOptions, RunningService, ServiceOptions };

/** Open the engine and backend, load the API tokens, and listen. */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  const { startService: start } = await loadOptional('fastify', () => import('./bootstrap.js'));
  return start(options);
}

/** The standalone fastify app over an engine, not yet listening (`app.inject` in tests). */
export async function createServer(options: ServerOptions): Promise<ReturnType<typeof import('./app.js').buildServer>> {
  const { buildServer } = await loadOptional('fastify', () => import('./app.js'));
  return buildServer(options);
}
