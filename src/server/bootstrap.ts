/**
 * The standalone service: the engine over the chosen backend (pure, or PKCS#11 loaded only when
 * asked for), API tokens, our logger, the HTTP app listening, a periodic token sweep, and an
 * orderly close. Every option arrives resolved (config.ts builds them for `byok serve`).
 */
import type { Logger } from 'pino';
import { systemClock } from '../clock.js';
import type { ServiceConfig } from '../config/config.js';
import { openEngine } from '../open-engine.js';
import type { ImportEngine } from '../engine/import-engine.js';
import { ByokError } from '../errors.js';
import { loadOptional } from '../optional-dependency.js';
import { buildServer } from './app.js';
import { auditSink } from './audit.js';
import { serviceDialects } from './dialects/index.js';
import { loadAuthTokens, type LoadedAuth } from './auth.js';
import type { Metrics } from './metrics.js';
import type { FastifyInstance } from 'fastify';

/** What `startService` needs: the resolved configuration (config.ts builds it for `byok serve`). */
export interface ServiceOptions extends ServiceConfig {
  /** Default: a pino logger at `logLevel` on stdout (credentials redacted). */
  readonly logger?: Logger;
  /** How often expired token counters are pruned (default 10 min). */
  readonly sweepIntervalMs?: number;
}

/** A listening service and what it runs on. */
export interface RunningService {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly engine: ImportEngine;
  readonly metrics: Metrics;
  readonly auth: LoadedAuth;
  readonly logger: Logger;
  /** Stop accepting, let in-flight requests finish, then close the engine (store, backend). */
  close(): Promise<void>;
}

async function createLogger(level: string): Promise<Logger> {
  const { pino } = await loadOptional('pino', () => import('pino'));
  return pino({
    level,
    base: { service: 'byok' },
    // Defensive: the default serializers log no headers, but never let a credential through.
    redact: { paths: ['req.headers.authorization', 'req.headers["x-auth-token"]'], censor: '[redacted]' },
  });
}

/** Open the engine (and PKCS#11 backend if asked), load the tokens, listen, sweep tokens periodically. */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  const clock = options.engine.clock ?? systemClock;
  const logger = options.logger ?? await createLogger(options.logLevel);
  const auth = loadAuthTokens(options.auth, clock);
  // Loaded only when asked for: the pure path never loads pkcs11js.
  const backend = options.backend === 'pure' ? 'pure'
    : await (await import('../backends/pkcs11/index.js')).createPkcs11Backend({ ...options.backend.pkcs11, clock });
  // A PKCS#11 backend is ours, not the engine's: closed after the engine, or here if it failed to open.
  const closeBackend = async () => {
    if (typeof backend === 'object') await backend.close();
  };
  let engine: ImportEngine;
  try {
    engine = await openEngine({ ...options.engine, clock, backend, onAudit: auditSink(logger) });
  } catch (e) {
    await closeBackend();
    throw e;
  }
  const report = engine.capabilityReport();
  if (report) logger.info({ capabilities: report }, 'PKCS#11 device capabilities');
  const dialects = serviceDialects({ aws: { ...options.aws, clock } });
  const { app, metrics } = buildServer({ engine, auth: auth.tokens, logger, timeouts: options.timeouts, rateLimits: options.rateLimits, dialects, console: options.console });
  metrics.poolDepth = () => engine.wrappingKeyPool?.depth() ?? 0;
  metrics.poolOnDemand = () => engine.wrappingKeyPool?.stats.onDemand ?? 0;
  let address: string;
  try {
    address = await app.listen(options.listen);
  } catch (e) {
    await engine.close();
    await closeBackend();
    throw e;
  }
  const sweep = setInterval(() => {
    engine.sweep().catch((e: unknown) => logger.warn({ errorCode: (e as ByokError).code ?? 'INTERNAL_ERROR' }, 'token sweep failed'));
  }, options.sweepIntervalMs ?? 600_000);
  sweep.unref();

  let closing: Promise<void> | undefined;
  return {
    url: address.replace('[::1]', 'localhost'),
    app, engine, metrics, auth, logger,
    close: () => (closing ??= (async () => {
      clearInterval(sweep);
      await app.close(); // waits for in-flight requests
      await engine.close();
      await closeBackend();
    })()),
  };
}
