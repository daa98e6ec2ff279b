/**
 * Bootstrap: the embedded defaults that `byok serve` runs — the engine over the chosen backend
 * (pure, or PKCS#11 loaded only when asked for), the SQLite store (or a shared PostgreSQL one) and
 * key files under the data directory, API tokens, the HTTP app — and an orderly close.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { CryptoBackend } from '../backends/crypto-backend.js';
import { systemClock, type Clock } from '../clock.js';
import { engineKeysFromEnv } from '../config/key-files.js';
import { openEngine } from '../open-engine.js';
import type { ImportEngine } from '../engine/import-engine.js';
import { ByokError } from '../errors.js';
import type { PostgresUrl } from '../store/store-url.js';
import { buildServer } from './app.js';
import { auditSink } from './audit.js';
import { loadAuthTokens, type LoadedAuth } from './auth.js';
import type { Metrics } from './metrics.js';
import type { FastifyInstance } from 'fastify';

export interface Pkcs11Selection {
  /** Path of the PKCS#11 module (.so); default env BYOK_PKCS11_MODULE, else SoftHSM2's. */
  readonly module?: string;
  readonly tokenLabel?: string;
  readonly slot?: number;
  /** JSON file with any Pkcs11BackendOptions, the PIN included (`{"pin": "..."}`). */
  readonly configFile?: string;
}

export interface ServiceOptions {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly backend: 'pure' | 'pkcs11';
  readonly pkcs11?: Pkcs11Selection;
  readonly authFile?: string;
  /** Worker threads for the pure backend's private-key work (0 = inline). */
  readonly workers: number;
  readonly tokenLifetimeSeconds: number;
  readonly logger: Logger;
  readonly env?: NodeJS.ProcessEnv;
  readonly clock?: Clock;
  readonly sqliteBusyTimeoutMs?: number;
  /** A `postgres://` URL: keys live in PostgreSQL, shared with every instance on it (default: SQLite in dataDir). */
  readonly storeUrl?: PostgresUrl;
  /** How often expired token counters are pruned (default 10 min). */
  readonly sweepIntervalMs?: number;
  /** Wrapping key pairs generated ahead per default spec (0 = none). */
  readonly wrappingKeyPoolDepth?: number;
}

export interface RunningService {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly engine: ImportEngine;
  readonly metrics: Metrics;
  readonly auth: LoadedAuth;
  /** Stop accepting, let in-flight requests finish, then close the engine (store, backend). */
  close(): Promise<void>;
}

/** The PKCS#11 backend, imported only here: the pure path never loads pkcs11js. */
async function openPkcs11Backend(selection: Pkcs11Selection, env: NodeJS.ProcessEnv, clock: Clock): Promise<CryptoBackend> {
  const nb = await import('../backends/pkcs11/index.js');
  let fromFile: Record<string, unknown> = {};
  if (selection.configFile) {
    try {
      fromFile = JSON.parse(readFileSync(selection.configFile, 'utf8')) as Record<string, unknown>;
    } catch {
      throw new ByokError('INVALID_PARAMETER', `The PKCS#11 config file ${selection.configFile} is not readable JSON.`);
    }
  }
  const options = nb.pkcs11OptionsFromEnv(env, {
    ...fromFile,
    ...(selection.module !== undefined ? { modulePath: selection.module } : {}),
    ...(selection.tokenLabel !== undefined ? { tokenLabel: selection.tokenLabel } : {}),
    ...(selection.slot !== undefined ? { slotIndex: selection.slot } : {}),
    clock,
  });
  return nb.createPkcs11Backend(options);
}

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const { logger } = options;
  const auth = loadAuthTokens({ dataDir: options.dataDir, env, ...(options.authFile ? { authFile: options.authFile } : {}) });
  const backend = options.backend === 'pkcs11' ? await openPkcs11Backend(options.pkcs11 ?? {}, env, clock) : 'pure';
  // Engine keys from the environment first; else openEngine uses <dataDir>/keys.json.
  const keys = engineKeysFromEnv(env);
  // A PKCS#11 backend is ours, not the engine's: closed after the engine, or here if it failed to open.
  const closeBackend = async () => {
    if (typeof backend === 'object') await backend.close();
  };
  let engine: ImportEngine;
  try {
    engine = await openEngine({
      dataDir: options.dataDir, backend, ...(keys ? { keys } : {}), workers: options.workers, tokenLifetimeSeconds: options.tokenLifetimeSeconds, clock,
      wrappingKeyPoolDepth: options.wrappingKeyPoolDepth ?? 0,
      ...(options.sqliteBusyTimeoutMs !== undefined ? { sqliteBusyTimeoutMs: options.sqliteBusyTimeoutMs } : {}),
      ...(options.storeUrl !== undefined ? { store: options.storeUrl } : {}),
      onAudit: auditSink(logger),
    });
  } catch (e) {
    await closeBackend();
    throw e;
  }
  const { app, metrics } = buildServer({ engine, auth: auth.tokens, logger });
  metrics.poolDepth = () => engine.wrappingKeyPool?.depth() ?? 0;
  metrics.poolOnDemand = () => engine.wrappingKeyPool?.stats.onDemand ?? 0;
  let address: string;
  try {
    address = await app.listen({ host: options.host, port: options.port });
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
    app, engine, metrics, auth,
    close: () => (closing ??= (async () => {
      clearInterval(sweep);
      await app.close(); // waits for in-flight requests
      await engine.close();
      await closeBackend();
    })()),
  };
}

/**
 * A clock shifted by whole seconds, for drills and tests that must see tokens and material
 * expire through the real process without sleeping (env BYOK_TEST_CLOCK_OFFSET_SECONDS).
 */
export function offsetClock(seconds: number): Clock {
  return { now: () => Date.now() + seconds * 1000 };
}
