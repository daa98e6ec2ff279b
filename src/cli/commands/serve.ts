/**
 * `byok serve`: the local KMS import service (both dialects) on the embedded defaults: pure
 * backend, SQLite store and key files under the data directory, created on first run.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { openEngine } from '../../engine/index.js';
import { loadAuthTokens } from '../../server/auth.js';
import { buildServer } from '../../server/app.js';
import type { Command } from '../main.js';

const usage = `Usage: byok serve [--host 127.0.0.1] [--port 8080] [--data-dir ./data] [--backend pure]
                  [--auth-file FILE] [--workers N] [--token-lifetime SECONDS] [--log-level info]

Runs the KMS import service: Huawei-style REST (POST /v1.0/{project_id}/kms/...) and Tencent-style
actions (POST / with X-TC-Action), /healthz and /metrics.

  --host, --port     where to listen (--port 0 picks a free port)
  --data-dir DIR     keys.json, byok.sqlite and auth-tokens.json live here (created on first run)
  --backend pure     the crypto backend (pure TypeScript)
  --auth-file FILE   API tokens as JSON {"token": "tenant"} or token=tenant lines
                     (env BYOK_AUTH_TOKENS="token=tenant,..." takes precedence; default:
                     DATA_DIR/auth-tokens.json with one admin token, printed when created)
  --workers N        worker threads for private-key work (default: the number of cores)
  --token-lifetime S import token lifetime in seconds (default 86400)
  env BYOK_SQLITE_BUSY_TIMEOUT_MS  how long a write waits for the database lock (default 10000)
  --log-level LEVEL  pino level (default info)

Stops gracefully on SIGTERM/SIGINT (in-flight requests finish, the store is closed).
Exit codes: 0 stopped cleanly, 1 failed to start, 2 usage error.`;

export const command: Command = {
  name: 'serve',
  summary: 'run the KMS import service',
  usage,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '8080' },
        'data-dir': { type: 'string', default: './data' },
        backend: { type: 'string', default: 'pure' },
        'auth-file': { type: 'string' },
        workers: { type: 'string' },
        'token-lifetime': { type: 'string', default: '86400' },
        'log-level': { type: 'string', default: 'info' },
      },
    });
    const port = Number(values.port);
    const tokenLifetimeSeconds = Number(values['token-lifetime']);
    const workers = values.workers === undefined ? availableParallelism() : Number(values.workers);
    if (!Number.isInteger(port) || port < 0 || port > 65535 || !Number.isInteger(workers) || workers < 0 || !Number.isInteger(tokenLifetimeSeconds) || tokenLifetimeSeconds < 1) {
      process.stderr.write('byok serve: --port, --workers and --token-lifetime must be non-negative integers\n');
      return 2;
    }
    if (values.backend !== 'pure') {
      process.stderr.write(`byok serve: unknown backend '${values.backend}' (pure)\n`);
      return 2;
    }
    const dataDir = values['data-dir'];
    const logger = pino({ level: values['log-level'], base: { service: 'byok' } });
    const auth = loadAuthTokens({ dataDir, ...(values['auth-file'] ? { authFile: values['auth-file'] } : {}) });
    const engine = await openEngine({
      dataDir, workers, tokenLifetimeSeconds,
      ...(process.env.BYOK_SQLITE_BUSY_TIMEOUT_MS ? { sqliteBusyTimeoutMs: Number(process.env.BYOK_SQLITE_BUSY_TIMEOUT_MS) } : {}),
      onAudit: (record) => logger.info({ audit: record }, 'audit'),
    });
    const { app } = buildServer({ engine, auth: auth.tokens, logger });
    const address = await app.listen({ host: values.host, port });
    const url = address.replace('[::1]', 'localhost');
    process.stdout.write(`byok listening on ${url} (data in ${dataDir}, backend ${engine.backendId}, ${workers} workers)\n`);
    if (auth.createdAdminToken) process.stdout.write(`admin API token (tenant "admin"), shown once: ${auth.createdAdminToken}\n`);
    process.stdout.write(`try: curl -s -X POST ${url}/v1.0/my-project/kms/create-key -H 'X-Auth-Token: <token>' -H 'Content-Type: application/json' -d '{"key_alias":"demo","origin":"external"}'\n`);

    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    await app.close(); // waits for in-flight requests
    await engine.close();
    process.stdout.write('byok stopped\n');
    return 0;
  },
};
