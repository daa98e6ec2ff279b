/**
 * `byok serve`: the local KMS import service (both dialects) on the embedded defaults: pure
 * backend, SQLite store and key files under the data directory, created on first run.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { isByokError } from '../../errors.js';
import { isPostgresUrl, redactStoreUrl } from '../../store/store-url.js';
import { offsetClock, startService, type RunningService } from '../../server/bootstrap.js';
import type { Command } from '../main.js';
import { commandFailure } from '../command-line.js';

const usage = `Usage: byok serve [--host 127.0.0.1] [--port 8080] [--data-dir ./data] [--backend pure|pkcs11]
                  [--store sqlite|postgres://USER@HOST/DB]
                  [--auth-file FILE] [--workers N] [--token-lifetime SECONDS] [--key-pool N]
                  [--log-level info]
                  [--pkcs11-module PATH] [--pkcs11-token-label LABEL | --pkcs11-slot N]
                  [--pkcs11-config FILE]

Runs the KMS import service: Huawei-style REST (POST /v1.0/{project_id}/kms/<action>, header
X-Auth-Token) and Tencent-style actions (POST / with X-TC-Action, Authorization: Bearer),
GET /healthz and GET /metrics (Prometheus text).

  --host, --port      where to listen (default 127.0.0.1:8080; --port 0 picks a free port)
  --data-dir DIR      keys.json (engine secrets), byok.sqlite (keys and material, sealed) and
                      auth-tokens.json live here; created on first run (default ./data)
  --backend NAME      pure (TypeScript, default) or pkcs11 (a PKCS#11 device through pkcs11js)
  --store WHERE       sqlite (DATA_DIR/byok.sqlite, default) or a postgres:// URL: several
                      instances on one database share one key space (they must also share the
                      engine keys, see BYOK_MASTER_KEY below). Default env BYOK_STORE_URL
  --auth-file FILE    API tokens: JSON {"token": "tenant", ...} or token=tenant lines.
                      Env BYOK_AUTH_TOKENS="token=tenant,..." takes precedence. Default:
                      DATA_DIR/auth-tokens.json, created with one admin token printed once.
  --workers N         worker threads for private-key work (default: the number of cores)
  --token-lifetime S  import token lifetime in seconds (default 86400)
  --key-pool N        wrapping key pairs generated ahead per default spec (RSA_2048, SM2), so
                      get-parameters-for-import costs a token seal, not a key generation (default 4;
                      0 = generate per request)
  --log-level LEVEL   pino level: fatal, error, warn, info (default), debug, silent

PKCS#11 (--backend pkcs11; the PIN never on the command line):
  --pkcs11-module PATH        the module .so (default env BYOK_PKCS11_MODULE, else SoftHSM2)
  --pkcs11-token-label LABEL  choose the token by label (or env BYOK_PKCS11_TOKEN_LABEL)
  --pkcs11-slot N             or by index in the slot list (or env BYOK_PKCS11_SLOT)
  --pkcs11-config FILE        JSON with backend options, e.g. {"pin": "...", "sessions": 4}
  env BYOK_PKCS11_PIN         the user PIN (if not in the config file)

Environment:
  BYOK_MASTER_KEY, BYOK_TOKEN_SEALING_KEY, BYOK_COMMITMENT_KEY   engine secrets (base64, 32
                      bytes each, all three or none) instead of DATA_DIR/keys.json
  BYOK_STORE_URL                  the store when --store is not given (sqlite or postgres://...;
                      put the password here or in PGPASSWORD / ~/.pgpass, not on the command line)
  BYOK_SQLITE_BUSY_TIMEOUT_MS     how long a write waits for the database lock (default 10000)
  BYOK_TEST_CLOCK_OFFSET_SECONDS  shift the service clock (tests and expiry drills only)

Prints where it listens and a curl example. Logs are JSON lines (pino) on stdout, with a
request ID per line and an "audit" line per key operation (never material, tokens or keys).
SIGTERM/SIGINT stop it gracefully: in-flight requests finish, the store is closed; a second
signal exits at once.

Exit codes: 0 stopped cleanly, 1 failed to start or to stop, 2 usage error.`;

const fail = commandFailure('serve');

const intOption = (value: string | undefined, min: number, max: number): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  return /^-?[0-9]+$/.test(value) && n >= min && n <= max ? n : NaN;
};

export const command: Command = {
  name: 'serve',
  summary: 'run the KMS import service',
  usage,
  async run(argv) {
    let values;
    try {
      ({ values } = parseArgs({
        args: argv,
        options: {
          host: { type: 'string', default: '127.0.0.1' },
          port: { type: 'string', default: '8080' },
          'data-dir': { type: 'string', default: './data' },
          backend: { type: 'string', default: 'pure' },
          store: { type: 'string' },
          'auth-file': { type: 'string' },
          workers: { type: 'string' },
          'token-lifetime': { type: 'string', default: '86400' },
          'key-pool': { type: 'string', default: '4' },
          'log-level': { type: 'string', default: 'info' },
          'pkcs11-module': { type: 'string' },
          'pkcs11-token-label': { type: 'string' },
          'pkcs11-slot': { type: 'string' },
          'pkcs11-config': { type: 'string' },
        },
      }));
    } catch (e) {
      return fail.usage((e as Error).message);
    }
    const port = intOption(values.port, 0, 65535);
    const workers = intOption(values.workers, 0, 256) ?? availableParallelism();
    const tokenLifetimeSeconds = intOption(values['token-lifetime'], 1, 7 * 86400);
    const keyPool = intOption(values['key-pool'], 0, 1024);
    const slot = intOption(values['pkcs11-slot'], 0, 1 << 20);
    const clockOffset = intOption(process.env.BYOK_TEST_CLOCK_OFFSET_SECONDS, -(1 << 30), 1 << 30) ?? 0;
    const busy = intOption(process.env.BYOK_SQLITE_BUSY_TIMEOUT_MS, 0, 3_600_000);
    for (const [name, v] of [['--port', port], ['--workers', workers], ['--token-lifetime', tokenLifetimeSeconds], ['--key-pool', keyPool], ['--pkcs11-slot', slot],
      ['BYOK_TEST_CLOCK_OFFSET_SECONDS', clockOffset], ['BYOK_SQLITE_BUSY_TIMEOUT_MS', busy]] as const) {
      if (Number.isNaN(v)) return fail(`${name} must be an integer in range`, 2);
    }
    if (values.backend !== 'pure' && values.backend !== 'pkcs11') return fail(`unknown backend '${values.backend}' (pure|pkcs11)`, 2);
    if (values.backend === 'pure' && (values['pkcs11-module'] || values['pkcs11-token-label'] || slot !== undefined || values['pkcs11-config'])) {
      return fail('--pkcs11-* options need --backend pkcs11', 2);
    }
    const store = values.store ?? process.env.BYOK_STORE_URL ?? 'sqlite';
    if (store !== 'sqlite' && !isPostgresUrl(store)) return fail(`unknown store '${redactStoreUrl(store)}' (sqlite|postgres://...)`, 2);
    if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(values['log-level'])) return fail(`unknown log level '${values['log-level']}'`, 2);

    const dataDir = values['data-dir'];
    const logger = pino({
      level: values['log-level'],
      base: { service: 'byok' },
      // Defensive: the default serializers log no headers, but never let a credential through.
      redact: { paths: ['req.headers.authorization', 'req.headers["x-auth-token"]'], censor: '[redacted]' },
    });

    let svc: RunningService;
    try {
      svc = await startService({
        host: values.host, port: port!, dataDir, backend: values.backend, workers, tokenLifetimeSeconds: tokenLifetimeSeconds!, logger, wrappingKeyPoolDepth: keyPool ?? 4,
        ...(values['auth-file'] ? { authFile: values['auth-file'] } : {}),
        ...(clockOffset ? { clock: offsetClock(clockOffset) } : {}),
        ...(busy !== undefined ? { sqliteBusyTimeoutMs: busy } : {}),
        ...(isPostgresUrl(store) ? { storeUrl: store } : {}),
        pkcs11: {
          ...(values['pkcs11-module'] ? { module: values['pkcs11-module'] } : {}),
          ...(values['pkcs11-token-label'] ? { tokenLabel: values['pkcs11-token-label'] } : {}),
          ...(slot !== undefined ? { slot } : {}),
          ...(values['pkcs11-config'] ? { configFile: values['pkcs11-config'] } : {}),
        },
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return fail(isByokError(e) || code === 'EADDRINUSE' || code === 'EACCES' ? (e as Error).message : `could not start (${code ?? (e as Error).name})`, 1);
    }

    const { url } = svc;
    process.stdout.write(`byok listening on ${url} (data in ${dataDir}, store ${store === 'sqlite' ? 'sqlite' : redactStoreUrl(store)}, backend ${svc.engine.backendId}, ${workers} workers, tokens from ${svc.auth.source})\n`);
    if (svc.auth.createdAdminToken) {
      process.stdout.write(`admin API token (tenant "admin"), shown once: ${svc.auth.createdAdminToken}\n`);
    }
    process.stdout.write(`try: curl -s -X POST ${url}/v1.0/my-project/kms/create-key -H 'X-Auth-Token: <token>' -H 'Content-Type: application/json' -d '{"key_alias":"demo","origin":"external"}'\n`);

    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    // A second signal while draining: stop now.
    const force = () => process.exit(130);
    process.once('SIGTERM', force);
    process.once('SIGINT', force);
    logger.info({ signal }, 'shutting down');
    try {
      await svc.close();
    } catch (e) {
      return fail(`error while stopping (${isByokError(e) ? e.code : (e as Error).name})`, 1);
    }
    // pino writes asynchronously: flush it so "byok stopped" is the last line.
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    process.stdout.write('byok stopped\n');
    return 0;
  },
};
