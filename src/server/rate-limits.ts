/**
 * Per-tenant limits on the expensive calls (issue 14, fair use): get-parameters-for-import may
 * generate a wrapping key pair, an import runs a private-key unwrap and a store write. Each call
 * has one counter per tenant shared by every dialect (Huawei's import-key-material and Tencent's
 * ImportKeyMaterial are one call), over a one-second window, on @fastify/rate-limit's store.
 * Keyed by the authenticated tenant, never the IP: the check runs after authentication, so a
 * refused credential counts against nobody.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimits } from '../config/config.js';
import { SETTINGS } from '../config/settings.js';
import { ByokError } from '../errors.js';
import { loadOptional } from '../optional-dependency.js';

export type { RateLimits };

/** An expensive call under a limit. */
export type LimitedCall = keyof RateLimits;

/** The settings' defaults: 100 each (Tencent documents 100 requests per second for ImportKeyMaterial). */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  getParametersForImport: SETTINGS.rateLimitGetParameters.default, importKeyMaterial: SETTINGS.rateLimitImport.default,
};

const WINDOW_MS = 1000;

/** Counts one request of `tenant` to `call`; throws RATE_LIMITED (with Retry-After set) over the limit. */
export type TenantRateLimit = (call: LimitedCall, tenant: string, req: FastifyRequest, reply: FastifyReply) => Promise<void>;

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

/**
 * The limits' check for the routes of `app` (an encapsulated context: the plugin is registered
 * there with `global: false`, so it adds no hook of its own). Undefined when every limit is 0:
 * then @fastify/rate-limit is not even loaded.
 */
export async function tenantRateLimit(app: FastifyInstance, limits: RateLimits): Promise<TenantRateLimit | undefined> {
  const calls = (Object.keys(limits) as LimitedCall[]).filter((call) => limits[call] > 0);
  if (calls.length === 0) return undefined;
  const { default: rateLimit } = await loadOptional('@fastify/rate-limit', () => import('@fastify/rate-limit'));
  await app.register(rateLimit, { global: false });
  // The key generator sees only the request: the tenant authenticated for it is kept here.
  const tenantOf = new WeakMap<FastifyRequest, string>();
  const limiters = new Map<LimitedCall, Limiter>(calls.map((call) => [call, app.createRateLimit({
    max: limits[call], timeWindow: WINDOW_MS, keyGenerator: (req) => tenantOf.get(req)!,
  })]));
  return async (call, tenant, req, reply) => {
    const limiter = limiters.get(call);
    if (!limiter) return;
    tenantOf.set(req, tenant);
    const result = await limiter(req);
    if (result.isAllowed || !result.isExceeded) return;
    // RFC 9110 §10.2.3: whole seconds until the window ends (at least 1).
    reply.header('retry-after', Math.max(1, result.ttlInSeconds));
    throw new ByokError('RATE_LIMITED');
  };
}
