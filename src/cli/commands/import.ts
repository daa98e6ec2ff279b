/** `byok import`: get-parameters → wrap → import in one step, against a running service. */
import { readFileSync } from 'node:fs';
import { KmsServiceClient, ServiceError } from '../../client/service-client.js';
import { settingsHelp } from '../../config/settings-table.js';
import { isByokError } from '../../errors.js';
import { commandConfig, defineCommand, EXIT, materialSource, UsageError } from '../command-line.js';

const usage = `Usage: byok import --endpoint URL --key-id ID (--in material.bin | --private-key key.pem)
                   [--algorithm RSAES_OAEP_SHA_256] [--wrapping-key-spec RSA_2048]
                   [--project-id default] [--expiration-time SECONDS]

Imports key material into an external key of a running byok service (Huawei-style API) in one
step: gets the import parameters, wraps the material locally for the returned public key, and
imports it. The plaintext material never leaves this process unwrapped. A private key travels as
PKCS#8 under a temporary AES key (two fields, or one blob with RSA_AES_KEY_WRAP_*).

${settingsHelp('import')}
  (the API token only from the environment: never on the command line, which ps shows)

Algorithms: RSAES_OAEP_SHA_256 | RSAES_OAEP_SHA_1 | RSAES_PKCS1_V1_5 | SM2_ENCRYPT |
RSA_AES_KEY_WRAP_SHA_256 | RSA_AES_KEY_WRAP_SHA_1; wrapping key specs RSA_2048 | RSA_3072 |
RSA_4096 | SM2.

Prints "imported into ID: key_state N, key_check_value HEX" (key_state 2 = enabled).
Exit codes: 0 imported, 1 the service refused or could not be reached (one line on stderr with
its error code, e.g. KMS.2314 for different material), 2 usage error.`;

export const command = defineCommand({ name: 'import', summary: 'import key material into a running service', usage }, async (argv, fail) => {
  const s = commandConfig('import', argv).settings;
  const source = materialSource(s);
  if (!s.endpoint || !s.keyId || !source) throw new UsageError('--endpoint, --key-id and one of --in / --private-key are required (see byok import --help)');
  if (!s.authToken) return fail('set the API token in the environment variable BYOK_AUTH_TOKEN', EXIT.USAGE);

  let material: Uint8Array;
  try {
    material = new Uint8Array(readFileSync(source.path));
  } catch (e) {
    return fail(`cannot read ${source.path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, EXIT.USAGE);
  }
  try {
    const client = new KmsServiceClient({ endpoint: s.endpoint, authToken: s.authToken, projectId: s.projectId });
    const info = await client.importMaterial({
      keyId: s.keyId, [source.kind]: material, wrappingAlgorithm: s.importAlgorithm,
      ...(s.wrappingKeySpec ? { wrappingKeySpec: s.wrappingKeySpec } : {}),
      ...(s.expirationTime !== undefined ? { expirationTime: s.expirationTime } : {}),
    });
    process.stdout.write(`imported into ${info.key_id}: key_state ${info.key_state}, key_check_value ${info.key_check_value ?? ''}\n`);
    return EXIT.OK;
  } catch (e) {
    if (e instanceof ServiceError) return fail(e.message + (e.requestId ? ` (request ${e.requestId})` : ''), EXIT.FAILURE);
    if (isByokError(e)) return fail(e.message, e.code === 'INVALID_PARAMETER' ? EXIT.USAGE : EXIT.FAILURE);
    throw e;
  } finally {
    material.fill(0);
  }
});
