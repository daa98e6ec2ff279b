/** `byok wrap`: the client-side wrap of key material for an import public key. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { wrapKeyMaterial } from '../../client/wrap.js';
import { zeroize } from '../../bytes.js';
import type { Command } from '../main.js';

const usage = `Usage: byok wrap --public-key FILE --algorithm ALG --in material.bin

Wraps key material for the public key that get-parameters-for-import returned, as the seeds'
"openssl pkeyutl" commands do, and prints the base64 encrypted_key_material.

  --public-key FILE  the public key: the API's base64 text, DER, or PEM
  --algorithm ALG    RSAES_OAEP_SHA_256 | RSAES_OAEP_SHA_1 | RSAES_PKCS1_V1_5 | SM2_ENCRYPT
  --in FILE          the plaintext key material (e.g. 32 random bytes)

Exit codes: 0 printed, 1 could not wrap, 2 usage error.`;

export const command: Command = {
  name: 'wrap',
  summary: 'wrap key material for an import public key',
  usage,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { 'public-key': { type: 'string' }, algorithm: { type: 'string' }, in: { type: 'string' } } });
    if (!values['public-key'] || !values.algorithm || !values.in) {
      process.stderr.write('byok wrap: --public-key, --algorithm and --in are required\n');
      return 2;
    }
    const raw = readFileSync(values['public-key']);
    const text = raw.toString('latin1');
    const publicKey = /^[A-Za-z0-9+/=\s]+$/.test(text) || text.includes('-----BEGIN') ? text.trim() : new Uint8Array(raw);
    const material = new Uint8Array(readFileSync(values.in));
    try {
      process.stdout.write(Buffer.from(wrapKeyMaterial({ publicKey, algorithm: values.algorithm, material })).toString('base64') + '\n');
    } finally {
      zeroize(material);
    }
    return 0;
  },
};
