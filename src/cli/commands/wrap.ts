/** `byok wrap`: the client-side wrap of key material for an import public key. */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseWrappingAlgorithm } from '../../algorithms/specs.js';
import { wrapForImport } from '../../client/wrap.js';
import { isByokError } from '../../errors.js';
import type { Command } from '../main.js';
import { commandFailure } from '../command-line.js';

const usage = `Usage: byok wrap --public-key FILE --algorithm ALG (--in material.bin | --private-key key.pem) [--out FILE]

Wraps a key for the public key that get-parameters-for-import returned, as the seeds'
"openssl pkeyutl" commands do — and what the OpenSSL CLI cannot do (AES key wrap with padding,
which "openssl enc -id-aes256-wrap-pad" refuses).

  --public-key FILE   the public key: the API's base64 text, DER, or PEM
  --algorithm ALG     RSAES_OAEP_SHA_256 | RSAES_OAEP_SHA_1 | RSAES_PKCS1_V1_5 | SM2_ENCRYPT
                      (SM2PKE is accepted) | RSA_AES_KEY_WRAP_SHA_256 | RSA_AES_KEY_WRAP_SHA_1
  --in FILE           symmetric or HMAC key bytes (32 for AES_256, 16 for SM4, 28..64 for HMAC)
  --private-key FILE  an asymmetric private key, PEM or DER: PKCS#8, SEC1 ("EC PRIVATE KEY")
                      or PKCS#1 ("RSA PRIVATE KEY"); sent as PKCS#8
  --out FILE          write the output there instead of stdout

Output: one base64 line, encrypted_key_material (Huawei) / EncryptedKeyMaterial (Tencent): the
key itself, or with RSA_AES_KEY_WRAP_* the single blob RSA-OAEP(temporary AES key) ‖ RFC 5649
wrap. A private key with any other algorithm travels in Huawei's two fields: the output is then
JSON {"encrypted_key_material": ..., "encrypted_privatekey": ...}, ready for import-key-material.
Exit codes: 0 wrapped, 1 could not wrap (e.g. the key does not fit the algorithm), 2 usage error.`;

const fail = commandFailure('wrap');

export const command: Command = {
  name: 'wrap',
  summary: 'wrap key material for an import public key',
  usage,
  async run(argv) {
    let values;
    try {
      ({ values } = parseArgs({
        args: argv,
        options: { 'public-key': { type: 'string' }, algorithm: { type: 'string' }, in: { type: 'string' }, 'private-key': { type: 'string' }, out: { type: 'string' } },
      }));
    } catch (e) {
      return fail.usage((e as Error).message);
    }
    if (!values['public-key'] || !values.algorithm || (values.in === undefined) === (values['private-key'] === undefined)) {
      return fail.usage('--public-key, --algorithm and one of --in / --private-key are required');
    }
    let raw: Buffer;
    let material: Uint8Array;
    try {
      raw = readFileSync(values['public-key']);
      material = new Uint8Array(readFileSync((values.in ?? values['private-key'])!));
    } catch (e) {
      return fail(`cannot read input (${(e as NodeJS.ErrnoException).code ?? 'error'}: ${(e as NodeJS.ErrnoException).path ?? ''})`, 2);
    }
    const text = raw.toString('latin1');
    // The API's base64 or a PEM as text; anything else is taken as DER.
    const publicKey = /^[A-Za-z0-9+/=\s]+$/.test(text) || text.includes('-----BEGIN') ? text.trim() : new Uint8Array(raw);
    try {
      const wrapped = wrapForImport({ publicKey, algorithm: parseWrappingAlgorithm(values.algorithm), ...(values.in !== undefined ? { material } : { privateKey: material }) });
      const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
      const out = wrapped.encryptedPrivateKey
        ? JSON.stringify({ encrypted_key_material: b64(wrapped.encryptedKeyMaterial), encrypted_privatekey: b64(wrapped.encryptedPrivateKey) }) + '\n'
        : b64(wrapped.encryptedKeyMaterial) + '\n';
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
