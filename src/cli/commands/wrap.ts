/** `byok wrap`: the client-side wrap of key material for an import public key. */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { wrapMaterial } from '../../client/wrap.js';
import { isByokError } from '../../errors.js';
import type { Command } from '../main.js';

const usage = `Usage: byok wrap --public-key FILE --algorithm ALG --in material.bin [--out FILE]

Wraps key material for the public key that get-parameters-for-import returned, as the seeds'
"openssl pkeyutl" commands do, and prints the base64 encrypted_key_material (Huawei) /
EncryptedKeyMaterial (Tencent).

  --public-key FILE  the public key: the API's base64 text, DER, or PEM
  --algorithm ALG    RSAES_OAEP_SHA_256 | RSAES_OAEP_SHA_1 | RSAES_PKCS1_V1_5 | SM2_ENCRYPT
                     (SM2PKE is accepted as SM2_ENCRYPT)
  --in FILE          the plaintext key material (e.g. 32 random bytes for AES_256)
  --out FILE         write the base64 there instead of stdout

Symmetric material only (asymmetric private-key import is a later addition).
Exit codes: 0 wrapped, 1 could not wrap (e.g. the key does not fit the algorithm), 2 usage error.`;

function fail(message: string, code: number): number {
  process.stderr.write(`byok wrap: ${message}\n`);
  return code;
}

export const command: Command = {
  name: 'wrap',
  summary: 'wrap key material for an import public key',
  usage,
  async run(argv) {
    let values;
    try {
      ({ values } = parseArgs({
        args: argv,
        options: { 'public-key': { type: 'string' }, algorithm: { type: 'string' }, in: { type: 'string' }, out: { type: 'string' } },
      }));
    } catch (e) {
      return fail(`${(e as Error).message} (see byok wrap --help)`, 2);
    }
    if (!values['public-key'] || !values.algorithm || !values.in) return fail('--public-key, --algorithm and --in are required (see byok wrap --help)', 2);
    let raw: Buffer;
    let material: Uint8Array;
    try {
      raw = readFileSync(values['public-key']);
      material = new Uint8Array(readFileSync(values.in));
    } catch (e) {
      return fail(`cannot read input (${(e as NodeJS.ErrnoException).code ?? 'error'}: ${(e as NodeJS.ErrnoException).path ?? ''})`, 2);
    }
    const text = raw.toString('latin1');
    // The API's base64 or a PEM as text; anything else is taken as DER.
    const publicKey = /^[A-Za-z0-9+/=\s]+$/.test(text) || text.includes('-----BEGIN') ? text.trim() : new Uint8Array(raw);
    try {
      const out = Buffer.from(wrapMaterial({ publicKey, algorithm: values.algorithm, material })).toString('base64') + '\n';
      if (values.out) writeFileSync(values.out, out);
      else process.stdout.write(out);
      return 0;
    } catch (e) {
      if (isByokError(e)) return fail(e.message, 1);
      return fail(`could not wrap (${(e as Error).name})`, 1);
    } finally {
      material.fill(0);
    }
  },
};
