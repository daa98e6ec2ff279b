/**
 * `byok serve`: the local KMS import service (both dialects) on the embedded defaults: pure
 * backend, SQLite store and key files under the data directory, created on first run.
 */
import { sm2Engine } from '../../algorithms/sm2/index.js';
import { serviceConfig } from '../../config/config.js';
import { settingsHelp } from '../../config/settings-table.js';
import { isByokError } from '../../errors.js';
import { startService, type RunningService } from '../../server/index.js';
import { redactStoreUrl } from '../../store/store-url.js';
import { commandConfig, defineCommand, EXIT } from '../command-line.js';

const usage = `Usage: byok serve [--host 127.0.0.1] [--port 8080] [--data-dir ./data] [--backend pure|pkcs11]
                  [--store sqlite|postgres://USER@HOST/DB] [--config FILE] [...]

Runs the KMS import service: Huawei-style REST (POST /v1.0/{project_id}/kms/<action>, header
X-Auth-Token or the SDKs' SDK-HMAC-SHA256 signature) and Tencent-style actions (POST / with
X-TC-Action, Authorization: Bearer or the SDKs' TC3-HMAC-SHA256 signature; access keys in
BYOK_ACCESS_KEYS), GET /healthz and GET /metrics (Prometheus text).

Every setting (flag > environment variable > --config file > default; secrets have no flag):
${settingsHelp('serve')}

Several instances on one postgres:// store share one key space: give them the same engine keys
(BYOK_MASTER_KEY, BYOK_TOKEN_SEALING_KEY, BYOK_COMMITMENT_KEY) or the same keys.json.

Prints where it listens and a curl example. Logs are JSON lines (pino) on stdout, with a
request ID per line and an "audit" line per key operation (never material, tokens or keys).
SIGTERM/SIGINT stop it gracefully: in-flight requests finish, the store is closed; a second
signal exits at once.

Exit codes: 0 stopped cleanly, 1 failed to start or to stop, 2 usage error.`;

export const command = defineCommand({ name: 'serve', summary: 'run the KMS import service', usage }, async (argv, fail) => {
  const config = commandConfig('serve', argv);
  let svc: RunningService;
  let workers = 0;
  try {
    const options = serviceConfig(config);
    workers = options.engine.workers;
    svc = await startService(options);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(isByokError(e) || code === 'EADDRINUSE' || code === 'EACCES' ? (e as Error).message : `could not start (${code ?? (e as Error).name})`, EXIT.FAILURE);
  }

  const { url, logger } = svc;
  const s = config.settings;
  process.stdout.write(`byok listening on ${url} (data in ${s.dataDir}, store ${s.store === 'sqlite' ? 'sqlite' : redactStoreUrl(s.store)}, backend ${svc.engine.backendId}, ${workers} workers, SM2 on ${sm2Engine().engine}, tokens from ${svc.auth.source})\n`);
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
    return fail(`error while stopping (${isByokError(e) ? e.code : (e as Error).name})`, EXIT.FAILURE);
  }
  // pino writes asynchronously: flush it so "byok stopped" is the last line.
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  process.stdout.write('byok stopped\n');
  return EXIT.OK;
});
