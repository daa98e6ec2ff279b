/** `byok wrap`: the client-side wrap of key material for an import public key. */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseWrappingAlgorithm } from '../../algorithms/specs.js';
import { wrapForImport } from '../../client/wrap.js';
import { settingsHelp } from '../../config/settings-table.js';
import { isByokError } from '../../errors.js';
import { commandConfig, defineCommand, EXIT, materialSource, UsageError } from '../command-line.js';

const usage = `Usage: byok wrap --public-key FILE --algorithm ALG (--in material.bin | --private-key key.pem) [--out FILE]

Wraps a key for the public key that get-parameters-for-import returned, as the seeds'
"openssl pkeyutl" commands do — and what the OpenSSL CLI cannot do (AES key wrap with padding,
which "openssl enc -id-aes256-wrap-pad" refuses).

${settingsHelp('wrap')}

Algorithms: RSAES_OAEP_SHA_256 | RSAES_OAEP_SHA_1 | RSAES_PKCS1_V1_5 | SM2_ENCRYPT (SM2PKE is
accepted) | RSA_AES_KEY_WRAP_SHA_256 | RSA_AES_KEY_WRAP_SHA_1.

Output: one base64 line, encrypted_key_material (Huawei) / EncryptedKeyMaterial (Tencent): the
key itself, or with RSA_AES_KEY_WRAP_* the single blob RSA-OAEP(temporary AES key) ‖ RFC 5649
wrap. A private key with any other algorithm travels in Huawei's two fields: the output is then
JSON {"encrypted_key_material": ..., "encrypted_privatekey": ...}, ready for import-key-material.
Exit codes: 0 wrapped, 1 could not wrap (e.g. the key does not fit the algorithm), 2 usage error.`;

export const command = defineCommand({ name: 'wrap', summary: 'wrap key material for an import public key', usage }, async (argv, fail) => {
  const s = commandConfig('wrap', argv).settings;
  const source = materialSource(s);
  if (!s.publicKey || !s.wrapAlgorithm || !source) throw new UsageError('--public-key, --algorithm and one of --in / --private-key are required (see byok wrap --help)');
  let raw: Buffer;
  let material: Uint8Array;
  try {
    raw = readFileSync(s.publicKey);
    material = new Uint8Array(readFileSync(source.path));
  } catch (e) {
    return fail(`cannot read input (${(e as NodeJS.ErrnoException).code ?? 'error'}: ${(e as NodeJS.ErrnoException).path ?? ''})`, EXIT.USAGE);
  }
  const text = raw.toString('latin1');
  // The API's base64 or a PEM as text; anything else is taken as DER.
  const publicKey = /^[A-Za-z0-9+/=\s]+$/.test(text) || text.includes('-----BEGIN') ? text.trim() : new Uint8Array(raw);
  try {
    const wrapped = wrapForImport({ publicKey, algorithm: parseWrappingAlgorithm(s.wrapAlgorithm), [source.kind]: material });
    const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
    const out = wrapped.encryptedPrivateKey
      ? JSON.stringify({ encrypted_key_material: b64(wrapped.encryptedKeyMaterial), encrypted_privatekey: b64(wrapped.encryptedPrivateKey) }) + '\n'
      : b64(wrapped.encryptedKeyMaterial) + '\n';
    if (s.out) writeFileSync(s.out, out);
    else process.stdout.write(out);
    return EXIT.OK;
  } catch (e) {
    if (isByokError(e)) return fail(e.message, EXIT.FAILURE);
    return fail(`could not wrap (${(e as Error).name})`, EXIT.FAILURE);
  } finally {
    material.fill(0);
  }
});
