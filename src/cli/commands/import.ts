/** `byok import`: get-parameters → wrap → import in one step, against a running service. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KmsServiceClient, ServiceError } from '../../client/service-client.js';
import { isByokError } from '../../errors.js';
import type { Command } from '../main.js';
import { commandFailure } from '../command-line.js';

const usage = `Usage: byok import --endpoint URL --key-id ID (--in material.bin | --private-key key.pem)
                   [--algorithm RSAES_OAEP_SHA_256] [--wrapping-key-spec RSA_2048]
                   [--project-id default] [--expiration-time SECONDS]

Imports key material into an external key of a running byok service (Huawei-style API) in one
step: gets the import parameters, wraps the material locally for the returned public key, and
imports it. The plaintext material never leaves this process unwrapped.

  --endpoint URL            the service, e.g. http://127.0.0.1:8080
  --key-id ID               an external key (create-key with "origin": "external")
  --in FILE                 the plaintext material: 32 bytes (AES_256), 16 (SM4), 28..64 (HMAC)
  --private-key FILE        an asymmetric key (PEM or DER; PKCS#8, SEC1 or PKCS#1), sent as
                            PKCS#8 under a temporary AES key (two fields, or one blob with
                            RSA_AES_KEY_WRAP_*)
  --algorithm ALG           RSAES_OAEP_SHA_256 (default) | RSAES_OAEP_SHA_1 | RSAES_PKCS1_V1_5 |
                            SM2_ENCRYPT | RSA_AES_KEY_WRAP_SHA_256 | RSA_AES_KEY_WRAP_SHA_1
  --wrapping-key-spec SPEC  RSA_2048 (default for RSA) | RSA_3072 | RSA_4096 | SM2
  --project-id ID           the {project_id} path segment (default "default")
  --expiration-time S       material expiry, seconds since the epoch (default: never)
  env BYOK_AUTH_TOKEN       the API token (X-Auth-Token); never on the command line, which ps shows

Prints "imported into ID: key_state N, key_check_value HEX" (key_state 2 = enabled).
Exit codes: 0 imported, 1 the service refused or could not be reached (one line on stderr with
its error code, e.g. KMS.2314 for different material), 2 usage error.`;

const fail = commandFailure('import');

export const command: Command = {
  name: 'import',
  summary: 'import key material into a running service',
  usage,
  async run(argv) {
    let values;
    try {
      ({ values } = parseArgs({
        args: argv,
        options: {
          endpoint: { type: 'string' }, 'key-id': { type: 'string' }, in: { type: 'string' }, 'private-key': { type: 'string' },
          algorithm: { type: 'string', default: 'RSAES_OAEP_SHA_256' }, 'wrapping-key-spec': { type: 'string' },
          'project-id': { type: 'string', default: 'default' }, 'expiration-time': { type: 'string' },
        },
      }));
    } catch (e) {
      return fail.usage((e as Error).message);
    }
    const token = process.env.BYOK_AUTH_TOKEN;
    if (!values.endpoint || !values['key-id'] || (values.in === undefined) === (values['private-key'] === undefined)) {
      return fail.usage('--endpoint, --key-id and one of --in / --private-key are required');
    }
    const source = (values.in ?? values['private-key'])!;
    if (!token) return fail('set the API token in the environment variable BYOK_AUTH_TOKEN', 2);
    const expiry = values['expiration-time'];
    if (expiry !== undefined && !/^[0-9]{1,10}$/.test(expiry)) return fail('--expiration-time must be seconds since the epoch', 2);

    let material: Uint8Array;
    try {
      material = new Uint8Array(readFileSync(source));
    } catch (e) {
      return fail(`cannot read ${source} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 2);
    }
    try {
      const client = new KmsServiceClient({ endpoint: values.endpoint, authToken: token, projectId: values['project-id'] });
      const info = await client.importMaterial({
        keyId: values['key-id'], ...(values.in !== undefined ? { material } : { privateKey: material }), wrappingAlgorithm: values.algorithm,
        ...(values['wrapping-key-spec'] ? { wrappingKeySpec: values['wrapping-key-spec'] } : {}),
        ...(expiry !== undefined ? { expirationTime: Number(expiry) } : {}),
      });
      process.stdout.write(`imported into ${info.key_id}: key_state ${info.key_state}, key_check_value ${info.key_check_value ?? ''}\n`);
      return 0;
    } catch (e) {
      if (e instanceof ServiceError) return fail(e.message + (e.requestId ? ` (request ${e.requestId})` : ''), 1);
      if (isByokError(e)) return fail(e.message, e.code === 'INVALID_PARAMETER' ? 2 : 1);
      throw e;
    } finally {
      material.fill(0);
    }
  },
};
