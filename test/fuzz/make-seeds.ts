/**
 * Writes the committed seed corpus (test/fuzz/corpus/<target>/): valid inputs for each target
 * under the fixed keys of fixtures.ts, plus a few known edge cases. Deterministic layout, random
 * padding bytes: run `npm run fuzz:seeds` after changing a target's input format.
 */
import { constants, createHash, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { aesKwpWrap } from '../../src/algorithms/aes-kwp.js';
import { mgf1 } from '../../src/algorithms/rsa/mgf1.js';
import { generateSm2KeyPair } from '../../src/algorithms/sm2/index.js';
import { encodeSm2CiphertextDer, parseSm2Raw } from '../../src/algorithms/sm2/sm2-ciphertext.js';
import { wrapMaterial } from '../../src/client/wrap.js';
import { buildCiphertextBlob } from '../../src/engine/ciphertext-blob.js';
import { writeCorpusEntry } from './engine.js';
import { FUZZ_SRC_DIR, KWP_KEKS, rsaKey, sm2Key, tokenSealer } from './fixtures.js';

const CORPUS = join(FUZZ_SRC_DIR, 'corpus');
const seeds = new Map<string, Buffer[]>();
const add = (target: string, ...inputs: Uint8Array[]) => seeds.set(target, [...(seeds.get(target) ?? []), ...inputs.map((i) => Buffer.from(i))]);
const sel = (b: number, rest: Uint8Array | string) => Buffer.concat([Buffer.from([b]), typeof rest === 'string' ? Buffer.from(rest, 'utf8') : Buffer.from(rest)]);

// import-token
const sealer = tokenSealer();
const claims = (keySpec: string, algorithm: string) => ({ tenant: 't', keyId: '0123abcd-0000-0000-0000-000000000000', algorithm, keySpec, materialSpec: 'AES_256', issuedAt: 1_700_000_000, expiresAt: 1_700_086_400 }) as never;
for (const [spec, alg, blobLen] of [['SM2', 'SM2_ENCRYPT', 138], ['RSA_2048', 'RSAES_OAEP_SHA_256', 300]] as const) {
  const token = sealer.seal(claims(spec, alg), randomBytes(blobLen));
  add('import-token', sel(0, Buffer.from(token, 'latin1')), sel(1, Buffer.from(token, 'base64')));
  const meta = Buffer.from(JSON.stringify({ ...(claims(spec, alg) as object), nonce: 'AAAAAAAAAAAAAAAA' }));
  add('import-token', sel(2, Buffer.concat([Buffer.from([meta.length >> 8, meta.length & 0xff]), meta, randomBytes(32)])));
}
add('import-token', sel(2, Buffer.from([0, 4, ...Buffer.from('null')])), sel(2, Buffer.from([0xff, 0xff, 0x7b])));

// sm2-ciphertext (fixed key): DER and raw, 32- and 16-byte material
const sm2 = sm2Key();
const sm2Spki = Buffer.concat([Buffer.from('3059301306072a8648ce3d020106082a811ccf5501822d034200', 'hex'), sm2.ecdh!.getPublicKey()]);
for (const len of [32, 16]) {
  const raw = wrapMaterial({ publicKey: sm2Spki, algorithm: 'SM2_ENCRYPT', material: randomBytes(len) });
  const der = encodeSm2CiphertextDer(parseSm2Raw(raw, 'C1C3C2'));
  add('sm2-ciphertext', sel(0, der), sel(1, raw), sel(len === 32 ? 3 : 4, raw), sel(len === 32 ? 3 : 4, der));
  const c = parseSm2Raw(raw, 'C1C3C2');
  add('sm2-ciphertext', sel(2, Buffer.concat([c.c1, c.c2, c.c3])));
}

// pkcs8-spki
const pair = await generateSm2KeyPair();
const rsaSpki = createPublicKey(rsaKey()).export({ type: 'spki', format: 'der' });
add('pkcs8-spki', sel(0, pair.privateKeyPkcs8), sel(1, pair.publicKeySpki), sel(1, sm2Spki));
add('pkcs8-spki', sel(2, pair.publicKeySpki), sel(3, Buffer.from(pair.publicKeySpki).toString('base64')), sel(2, rsaSpki), sel(7, rsaSpki.toString('base64')));
add('pkcs8-spki', sel(3, createPublicKey(rsaKey()).export({ type: 'spki', format: 'pem' }).toString()));

// aes-kwp
for (let i = 0; i < KWP_KEKS.length; i++) {
  for (const len of [1, 7, 8, 9, 16, 32, 100]) add('aes-kwp', sel(i, aesKwpWrap(KWP_KEKS[i], randomBytes(len))));
}

// rsa-decoders: encoded blocks (k = 256 and 128) and ciphertexts under the fixed key
function pkcs1Em(k: number, m: Uint8Array): Buffer {
  const ps = Buffer.alloc(k - 3 - m.length);
  for (let i = 0; i < ps.length; i++) ps[i] = 1 + (randomBytes(1)[0] % 255);
  return Buffer.concat([Buffer.from([0, 2]), ps, Buffer.from([0]), m]);
}
function oaepEm(k: number, hash: string, m: Uint8Array): Buffer {
  const hLen = createHash(hash).digest().length;
  const db = Buffer.concat([createHash(hash).digest(), Buffer.alloc(k - m.length - 2 * hLen - 2), Buffer.from([1]), m]);
  const seed = randomBytes(hLen);
  const maskedDb = Buffer.from(db.map((b, i) => b ^ mgf1(hash, seed, db.length)[i]));
  const maskedSeed = Buffer.from(seed.map((b, i) => b ^ mgf1(hash, maskedDb, hLen)[i]));
  return Buffer.concat([Buffer.from([0]), maskedSeed, maskedDb]);
}
for (const k of [256, 128]) {
  for (const len of [16, 32]) {
    const lenBit = len === 32 ? 4 : 0;
    add('rsa-decoders', sel(0 | lenBit, pkcs1Em(k, randomBytes(len))), sel(1 | lenBit, pkcs1Em(k, randomBytes(len))));
    for (const [hash, hashBit] of [['sha1', 0], ['sha256', 8]] as const) {
      add('rsa-decoders', sel(2 | lenBit | hashBit, oaepEm(k, hash, randomBytes(len))), sel(3 | lenBit | hashBit, oaepEm(k, hash, randomBytes(len))));
    }
  }
}
const rsaPub = createPublicKey(rsaKey());
for (const len of [16, 32]) {
  const lenBit = len === 32 ? 4 : 0;
  const m = randomBytes(len);
  add('rsa-decoders', sel(240 | lenBit, publicEncrypt({ key: rsaPub, padding: constants.RSA_PKCS1_PADDING }, m)));
  add('rsa-decoders', sel(241 | lenBit, publicEncrypt({ key: rsaPub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, m)));
  add('rsa-decoders', sel(242 | lenBit, publicEncrypt({ key: rsaPub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, m)));
}

// ciphertext-blob
add('ciphertext-blob', buildCiphertextBlob('0123abcd-0000-0000-0000-00000000abcd', randomBytes(44)));

// service-json: selector = tencent bit | action index << 1 | auth << 5 | text/plain << 7
const hw = (i: number, body: object, auth = 0) => sel((i << 1) | (auth << 5), JSON.stringify(body));
const tc = (i: number, body: object, auth = 0) => sel(1 | (i << 1) | (auth << 5), JSON.stringify(body));
add('service-json',
  hw(0, { key_alias: 'a', key_spec: 'AES_256', origin: 'external' }),
  hw(1, { key_id: '@K1', wrapping_algorithm: 'SM2_ENCRYPT', wrapping_key_spec: 'SM2' }),
  hw(2, { key_id: '@K0', import_token: '@T0', encrypted_key_material: '@M0' }),
  hw(2, { key_id: '@K0', import_token: '@T0', encrypted_key_material: '@M0', expiration_time: 2147443200 }),
  hw(2, { key_id: '@K0', import_token: '@T0', encrypted_key_material: '@M0' }, 2),
  hw(3, { key_id: '@K1' }), hw(4, { key_id: '@K0' }), hw(5, { key_id: '@K0' }), hw(6, { key_id: '@K1' }),
  hw(7, { key_id: '@K0', plain_text: 'hello' }), hw(8, { cipher_text: 'AAAA' }), hw(9, {}),
  tc(0, { Alias: 'a', Type: 2 }), tc(1, { KeyId: '@K1', WrappingAlgorithm: 'SM2PKE', WrappingKeySpec: 'SM2' }),
  tc(2, { KeyId: '@K0', ImportToken: '@T0', EncryptedKeyMaterial: '@M0', ValidTo: '0' }),
  tc(3, { KeyId: '@K1' }), tc(4, { KeyId: '@K0' }), tc(7, { KeyId: '@K0', Plaintext: 'aGVsbG8=' }), tc(8, { CiphertextBlob: 'AAAA' }),
  tc(4, { KeyId: '@K0' }, 3), sel(0x80 | (4 << 1), 'key_id=1'),
);

for (const [target, inputs] of seeds) {
  // Regression inputs (crash-*) stay: they are the inputs of fixed crashes.
  let old: string[] = [];
  try { old = readdirSync(join(CORPUS, target)); } catch { /* new target */ }
  for (const name of old) if (!name.startsWith('crash-')) rmSync(join(CORPUS, target, name));
  for (const input of inputs) writeCorpusEntry(join(CORPUS, target), input);
  process.stdout.write(`${target}: ${inputs.length} seeds\n`);
}
