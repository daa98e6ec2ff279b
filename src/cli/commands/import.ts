/** `byok import`: get-parameters → wrap → import in one step, against a running service. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KmsServiceClient } from '../../client/service-client.js';
import { wrapKeyMaterial } from '../../client/wrap.js';
import { zeroize } from '../../bytes.js';
import type { Command } from '../main.js';

const usage = `Usage: byok import --endpoint URL --key-id ID --in material.bin
                   [--algorithm RSAES_OAEP_SHA_256] [--wrapping-key-spec RSA_2048]
                   [--project-id default] [--expiration-time SECONDS]

Imports key material into an external key of a running byok service (Huawei-style API):
gets the import parameters, wraps the material locally, imports it. The API token comes from
the environment variable BYOK_AUTH_TOKEN (never from the command line, which ps shows).

Exit codes: 0 imported, 1 the service refused (its error code on stderr), 2 usage error.`;

export const command: Command = {
  name: 'import',
  summary: 'import key material into a running service',
  usage,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        endpoint: { type: 'string' }, 'key-id': { type: 'string' }, in: { type: 'string' },
        algorithm: { type: 'string', default: 'RSAES_OAEP_SHA_256' }, 'wrapping-key-spec': { type: 'string' },
        'project-id': { type: 'string', default: 'default' }, 'expiration-time': { type: 'string' },
      },
    });
    const token = process.env.BYOK_AUTH_TOKEN;
    if (!values.endpoint || !values['key-id'] || !values.in || !token) {
      process.stderr.write('byok import: --endpoint, --key-id, --in and env BYOK_AUTH_TOKEN are required\n');
      return 2;
    }
    const client = new KmsServiceClient(values.endpoint, values['project-id'], token);
    const params = await client.getParametersForImport(values['key-id'], values.algorithm, values['wrapping-key-spec']);
    const material = new Uint8Array(readFileSync(values.in));
    let wrapped: string;
    try {
      wrapped = Buffer.from(wrapKeyMaterial({ publicKey: params.public_key, algorithm: values.algorithm, material })).toString('base64');
    } finally {
      zeroize(material);
    }
    await client.importKeyMaterial(values['key-id'], params.import_token, wrapped, values['expiration-time'] ? Number(values['expiration-time']) : undefined);
    const described = await client.describeKey(values['key-id']);
    process.stdout.write(`imported into ${values['key-id']}: key_state ${described.key_info.key_state}, key_check_value ${described.key_info.key_check_value}\n`);
    return 0;
  },
};
