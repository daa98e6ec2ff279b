/**
 * Asymmetric and HMAC key import, run unchanged against every backend: keys made by the OpenSSL
 * CLI (`openssl genpkey` / `openssl ecparam`), imported both ways (Huawei's two fields and the
 * RSA_AES_KEY_WRAP single blob) with the temporary key wrapped by `openssl pkeyutl`, the public
 * key compared byte for byte with `openssl pkey -pubout`, signatures verified by `openssl dgst` /
 * `openssl pkeyutl`, MACs compared with `openssl dgst -mac HMAC`. Where a backend declares a key
 * spec unsupported, the test asserts ALGORITHM_UNSUPPORTED with its reason; the generic cases use
 * P-256, or RSA-2048 where P-256 is declared unsupported (NSS softoken: no EC PKCS#8 unwrap); a
 * test needing what the backend declares it lacks (opencryptoki: no AES key wrap with padding, so
 * no private keys and no single blobs; no AES-GCM) is skipped naming the lack, and one test checks
 * that the declared lacks are exactly what the engine refuses.
 */
import { execFileSync } from 'node:child_process';
import { constants, createHash, createPrivateKey, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { aesKwpWrap } from '../../src/algorithms/aes-kwp.js';
import { MATERIAL_SPECS, SIGNING_ALGORITHMS, type MaterialSpec, type SigningAlgorithm } from '../../src/algorithms/specs.js';
import type { CapabilityQuery, CryptoBackend } from '../../src/backends/crypto-backend.js';
import { wrapForImport } from '../../src/client/wrap.js';
import { ManualClock } from '../../src/clock.js';
import { ImportEngine } from '../../src/engine/import-engine.js';
import { ByokError } from '../../src/errors.js';
import { SqliteKeyStore } from '../../src/store/sqlite-store.js';
import { declaredLack, destroyStoredMaterial, expectDeclaredLacksRefused, needing, openBackends } from '../helpers/backends.js';
import { opensslPkeyutlEncrypt, SEED_PKEYOPTS } from '../helpers/openssl-cli.js';

const TENANT = 'tenant-a';
const work = mkdtempSync(join(tmpdir(), 'byok-asym-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function openssl(args: string[], input?: Uint8Array): Buffer {
  return execFileSync('openssl', args, { cwd: work, stdio: 'pipe', ...(input ? { input } : {}) });
}

/** How the OpenSSL CLI makes each key spec: genpkey (PKCS#8) or ecparam (SEC1, then converted). */
const KEYGEN: Record<string, string[]> = {
  RSA_2048: ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  RSA_3072: ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072'],
  RSA_4096: ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:4096'],
  ECC_NIST_P256: ['ecparam', '-name', 'prime256v1', '-genkey', '-noout'],
  ECC_NIST_P384: ['ecparam', '-name', 'secp384r1', '-genkey', '-noout'],
  ECC_NIST_P521: ['ecparam', '-name', 'secp521r1', '-genkey', '-noout'],
  ECC_SECG_P256K1: ['ecparam', '-name', 'secp256k1', '-genkey', '-noout'],
  SM2: ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2'],
};
const PRIVATE_SPECS = Object.keys(KEYGEN) as MaterialSpec[];
const HMAC_SPECS: MaterialSpec[] = ['HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512'];

interface CustomerKey {
  /** The file as the tool wrote it (PEM; SEC1 for ecparam). */
  pem: string;
  pkcs8: Uint8Array;
  /** `openssl pkey -pubout -outform DER`. */
  spki: Buffer;
  pubPem: string;
}

const customerKeys = new Map<string, CustomerKey>();
function customerKey(spec: MaterialSpec, name = spec as string): CustomerKey {
  const cached = customerKeys.get(name);
  if (cached) return cached;
  const pem = join(work, `${name}.pem`);
  openssl([...KEYGEN[spec], '-out', pem]);
  const pkcs8 = new Uint8Array(openssl(['pkcs8', '-topk8', '-nocrypt', '-in', pem, '-outform', 'DER']));
  const spki = openssl(['pkey', '-in', pem, '-pubout', '-outform', 'DER']);
  const pubPem = join(work, `${name}.pub.pem`);
  openssl(['pkey', '-in', pem, '-pubout', '-out', pubPem]);
  const key = { pem, pkcs8, spki, pubPem };
  customerKeys.set(name, key);
  return key;
}

/** Verify with the OpenSSL CLI and the customer's own public key. */
function opensslVerifies(alg: SigningAlgorithm, pubPem: string, message: Uint8Array, signature: Uint8Array): boolean {
  const msg = join(work, `msg-${randomBytes(4).toString('hex')}`);
  const sig = `${msg}.sig`;
  writeFileSync(msg, message);
  writeFileSync(sig, signature);
  const info = SIGNING_ALGORITHMS[alg];
  const args = info.keyType === 'sm2'
    ? ['pkeyutl', '-verify', '-pubin', '-inkey', pubPem, '-rawin', '-in', msg, '-sigfile', sig, '-digest', 'sm3', '-pkeyopt', 'distid:1234567812345678']
    : ['dgst', `-${info.hash}`, ...(info.rsaPadding === 'pss' ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest'] : []), '-verify', pubPem, '-signature', sig, msg];
  try {
    return /Verified (OK|Successfully)/.test(openssl(args).toString());
  } catch {
    return false;
  }
}

/** sm2p256v1's a, b, Gx, Gy (GM/T 0003.5): what Z_A hashes besides the ID and the public key. */
const SM2_CURVE_HEX = 'FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC'
  + '28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93'
  + '32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7'
  + 'BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0';

/**
 * The DIGEST a caller sends for a message: the algorithm's hash of it; for SM2DSA e = SM3(Z_A ‖ M)
 * with Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ Gx ‖ Gy ‖ x_A ‖ y_A), ID the default 1234567812345678
 * (GM/T 0003.2 §5.5, §6.1), computed here with node's SM3 from the SPKI's point.
 */
function digestOf(alg: SigningAlgorithm, spki: Uint8Array, message: Uint8Array): Uint8Array {
  const info = SIGNING_ALGORITHMS[alg];
  if (info.keyType !== 'sm2') return new Uint8Array(createHash(info.hash).update(message).digest());
  const id = Buffer.from('1234567812345678');
  const za = createHash('sm3').update(Buffer.of(0, id.length * 8)).update(id).update(Buffer.from(SM2_CURVE_HEX, 'hex')).update(spki.subarray(spki.length - 64)).digest();
  return new Uint8Array(createHash('sm3').update(za).update(message).digest());
}

async function expectCode(p: Promise<unknown>, code: ByokError['code'], message?: RegExp) {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e, `expected ${code}`).toBeInstanceOf(ByokError);
  expect((e as ByokError).code).toBe(code);
  if (message) expect((e as ByokError).message).toMatch(message);
}

/** Huawei's two fields: temporary key by `openssl pkeyutl`, the key RFC 5649-wrapped under it. */
function twoFields(publicKey: string, algorithm: string, key: Uint8Array, temporaryKey = new Uint8Array(randomBytes(32))) {
  return {
    encryptedKeyMaterial: new Uint8Array(opensslPkeyutlEncrypt(Buffer.from(publicKey, 'base64'), temporaryKey, SEED_PKEYOPTS[algorithm])),
    encryptedPrivateKey: aesKwpWrap(temporaryKey, key),
  };
}

/** The AWS single blob: `openssl pkeyutl` OAEP of the temporary key ‖ RFC 5649 wrap. */
function singleBlob(publicKey: string, hash: 'sha256' | 'sha1', key: Uint8Array): Uint8Array {
  const temporaryKey = new Uint8Array(randomBytes(32));
  const head = opensslPkeyutlEncrypt(Buffer.from(publicKey, 'base64'), temporaryKey, ['rsa_padding_mode:oaep', `rsa_oaep_md:${hash}`, `rsa_mgf1_md:${hash}`]);
  return new Uint8Array(Buffer.concat([head, aesKwpWrap(temporaryKey, key)]));
}

const OPENED = await openBackends();

for (const { entry, backend: opened } of OPENED) describe.skipIf(opened === undefined)(`asymmetric and HMAC import on the ${entry.name} backend`, () => {
  // Collected also where the suite is skipped (then `opened` is undefined and nothing runs).
  const backend: CryptoBackend = opened!;
  /** The private-key spec of the generic cases: P-256, else RSA-2048, else none (privateLack says why). */
  const GENERIC = (['ECC_NIST_P256', 'RSA_2048'] as const).find((spec) => declaredLack(opened, { materialSpec: spec }) === undefined);
  const privateLack = GENERIC === undefined ? declaredLack(opened, { materialSpec: 'RSA_2048' }) : undefined;
  /** A single RSA_AES_KEY_WRAP blob needs AES key wrap with padding (asked for an HMAC key: no other need). */
  const SINGLE_BLOB: CapabilityQuery = { materialSpec: 'HMAC_256', wrapping: { algorithm: 'RSA_AES_KEY_WRAP_SHA_1', keySpec: 'RSA_2048' } };
  const envelopeLack = declaredLack(opened, SINGLE_BLOB);
  const aesLack = declaredLack(opened, { materialSpec: 'AES_256' });
  let engine: ImportEngine;
  let store: SqliteKeyStore;
  let dir: string;
  /** What this backend's device does for OAEP (SoftHSM2 2.6.1: SHA-1 only). */
  let OAEP = 'RSAES_OAEP_SHA_256';
  let ENVELOPE = 'RSA_AES_KEY_WRAP_SHA_256';
  let envelopeHash: 'sha256' | 'sha1' = 'sha256';
  const clock = new ManualClock(Date.UTC(2026, 10, 23));

  beforeAll(async () => {
    if (backend.unsupportedReason({ materialSpec: 'HMAC_256', wrapping: { algorithm: 'RSAES_OAEP_SHA_256', keySpec: 'RSA_2048' } }) !== undefined) {
      [OAEP, ENVELOPE, envelopeHash] = ['RSAES_OAEP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_1', 'sha1'];
    }
    dir = mkdtempSync(join(tmpdir(), 'byok-asym-engine-'));
    store = new SqliteKeyStore(join(dir, 'byok.sqlite'));
    engine = new ImportEngine({
      backend, store, clock,
      tokenSealingKeys: [{ id: 'tk1', key: new Uint8Array(randomBytes(32)) }], commitmentKey: new Uint8Array(randomBytes(32)),
    });
  });
  afterAll(async () => {
    // The engine closes only what it created: the store and backend are this suite's.
    await destroyStoredMaterial(backend, store, [TENANT]);
    await engine?.close();
    await store?.close();
    await backend?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });


  it('the declared lacks are exactly what the engine refuses (ALGORITHM_UNSUPPORTED with the reason)', async () => {
    await expectDeclaredLacksRefused(engine, TENANT, backend, [
      { materialSpec: 'ECC_NIST_P256' }, { materialSpec: 'RSA_2048' }, { materialSpec: 'AES_256' },
      SINGLE_BLOB, { materialSpec: 'HMAC_256', wrapping: { algorithm: 'RSAES_OAEP_SHA_256', keySpec: 'RSA_2048' } },
    ]);
  });

  async function params(keySpec: MaterialSpec, algorithm = OAEP) {
    const key = await engine.createKey({ tenant: TENANT, keySpec });
    const p = await engine.getParametersForImport({ tenant: TENANT, keyId: key.keyId, wrappingAlgorithm: algorithm });
    return { keyId: key.keyId, ...p };
  }

  /** The key signs for OpenSSL with every signing algorithm (`all`), or with its first (a re-check that nothing changed). */
  async function proveSigning(keyId: string, spec: MaterialSpec, k: CustomerKey, all = true) {
    const pub = await engine.getPublicKey({ tenant: TENANT, keyId });
    // Byte-equal to what OpenSSL derives from the customer's key.
    expect(Buffer.from(pub.publicKey, 'base64')).toEqual(k.spki);
    expect(pub.signingAlgorithms.length).toBeGreaterThan(0);
    const message = new Uint8Array(randomBytes(100));
    for (const signingAlgorithm of all ? pub.signingAlgorithms : pub.signingAlgorithms.slice(0, 1)) {
      const { signature } = await engine.sign({ tenant: TENANT, keyId, message, signingAlgorithm });
      expect(opensslVerifies(signingAlgorithm, k.pubPem, message, signature), `${spec} ${signingAlgorithm} verified by OpenSSL`).toBe(true);
      expect((await engine.verify({ tenant: TENANT, keyId, message, signingAlgorithm, signature })).signatureValid).toBe(true);
      const bad = Uint8Array.from(message);
      bad[0] ^= 1;
      expect((await engine.verify({ tenant: TENANT, keyId, message: bad, signingAlgorithm, signature })).signatureValid).toBe(false);

      // MessageType DIGEST: the caller's hash, signed as is; OpenSSL verifies it over the message.
      const digest = digestOf(signingAlgorithm, k.spki, message);
      const overDigest = await engine.sign({ tenant: TENANT, keyId, message: digest, signingAlgorithm, messageType: 'DIGEST' });
      expect(opensslVerifies(signingAlgorithm, k.pubPem, message, overDigest.signature), `${spec} ${signingAlgorithm} DIGEST verified by OpenSSL`).toBe(true);
      expect((await engine.verify({ tenant: TENANT, keyId, message: digest, signingAlgorithm, signature: overDigest.signature, messageType: 'DIGEST' })).signatureValid).toBe(true);
      expect((await engine.verify({ tenant: TENANT, keyId, message: digest, signingAlgorithm, signature, messageType: 'DIGEST' })).signatureValid).toBe(true);
      expect((await engine.verify({ tenant: TENANT, keyId, message: bad.subarray(0, digest.length), signingAlgorithm, signature, messageType: 'DIGEST' })).signatureValid).toBe(false);
      await expectCode(engine.sign({ tenant: TENANT, keyId, message: digest.subarray(1), signingAlgorithm, messageType: 'DIGEST' }), 'INVALID_PARAMETER', /digest is \d+ bytes/);
      await expectCode(engine.sign({ tenant: TENANT, keyId, message, signingAlgorithm, messageType: 'HASHED' as never }), 'INVALID_PARAMETER');
    }
    await expectCode(engine.encrypt({ tenant: TENANT, keyId, plaintext: message }), 'INVALID_KEY_USAGE');
  }

  describe.each(PRIVATE_SPECS)('%s', (spec) => {
    it('imported as two fields (Huawei) and as one RSA_AES_KEY_WRAP blob; signs for OpenSSL; re-import matches the key pair only', async () => {
      const k = customerKey(spec);
      const reason = backend.unsupportedReason({ materialSpec: spec });
      if (reason !== undefined) {
        await expectCode(engine.createKey({ tenant: TENANT, keySpec: spec }), 'ALGORITHM_UNSUPPORTED', /.+/);
        return;
      }
      const a = await params(spec);
      const r = await engine.importKeyMaterial({ tenant: TENANT, keyId: a.keyId, importToken: a.importToken, ...twoFields(a.publicKey, OAEP, k.pkcs8) });
      expect(r.state).toBe('Enabled');
      await proveSigning(a.keyId, spec, k);

      const b = await params(spec, ENVELOPE);
      expect((await engine.importKeyMaterial({ tenant: TENANT, keyId: b.keyId, importToken: b.importToken, encryptedKeyMaterial: singleBlob(b.publicKey, envelopeHash, k.pkcs8) })).state).toBe('Enabled');
      await proveSigning(b.keyId, spec, k);

      // Same key pair again (fresh token, fresh temporary key): accepted. Another pair: refused, nothing changed.
      const again = await engine.getParametersForImport({ tenant: TENANT, keyId: a.keyId, wrappingAlgorithm: OAEP });
      expect((await engine.importKeyMaterial({ tenant: TENANT, keyId: a.keyId, importToken: again.importToken, ...twoFields(again.publicKey, OAEP, k.pkcs8) })).keyCheckValue).toBe(r.keyCheckValue);
      const other = customerKey(spec, `${spec}-other`);
      await expectCode(engine.importKeyMaterial({ tenant: TENANT, keyId: a.keyId, importToken: again.importToken, ...twoFields(again.publicKey, OAEP, other.pkcs8) }), 'KEY_MATERIAL_MISMATCH');
      await proveSigning(a.keyId, spec, k, false);
    });
  });

  it.skipIf(privateLack !== undefined)(needing('the client library (wrapForImport) output imports: two fields and single blob, SEC1 / PKCS#1 input converted', privateLack), async () => {
    for (const spec of ['ECC_NIST_P256', 'RSA_2048'] as const) {
      if (backend.unsupportedReason({ materialSpec: spec }) !== undefined) continue;
      const k = customerKey(spec);
      const sec1OrPkcs1 = spec === 'RSA_2048'
        ? createPrivateKey(readFileSync(k.pem)).export({ type: 'pkcs1', format: 'pem' }).toString()
        : readFileSync(k.pem, 'utf8');
      for (const algorithm of [OAEP, ENVELOPE]) {
        const p = await params(spec, algorithm);
        const wrapped = wrapForImport({ publicKey: p.publicKey, algorithm, privateKey: sec1OrPkcs1 });
        expect(wrapped.encryptedPrivateKey === undefined).toBe(algorithm === ENVELOPE);
        await engine.importKeyMaterial({ tenant: TENANT, keyId: p.keyId, importToken: p.importToken, ...wrapped });
        expect(Buffer.from((await engine.getPublicKey({ tenant: TENANT, keyId: p.keyId })).publicKey, 'base64')).toEqual(k.spki);
      }
    }
  });

  it.skipIf(privateLack !== undefined)(needing('SEC1 and PKCS#1 keys get the named error with the conversion command (the same in a tampered wrap: the uniform error); another curve or size is refused; nothing changes', privateLack), async () => {
    const p256 = customerKey('ECC_NIST_P256');
    const rsa = customerKey('RSA_2048');
    const sec1 = new Uint8Array(openssl(['ec', '-in', p256.pem, '-outform', 'DER']));
    const pkcs1 = new Uint8Array(createPrivateKey(readFileSync(rsa.pem)).export({ type: 'pkcs1', format: 'der' }));
    const cases: Array<[MaterialSpec, Uint8Array, RegExp]> = [
      ['ECC_NIST_P256', sec1, /openssl pkcs8 -topk8 -nocrypt/],
      ['RSA_2048', pkcs1, /openssl pkcs8 -topk8 -nocrypt/],
      ['ECC_NIST_P384', p256.pkcs8, /.+/],
      ['RSA_3072', rsa.pkcs8, /.+/],
      ['RSA_2048', p256.pkcs8, /.+/],
    ];
    for (const [spec, der, message] of cases) {
      if (backend.unsupportedReason({ materialSpec: spec }) !== undefined) continue;
      const p = await params(spec);
      // The same key in a tampered wrap is the uniform error: only an authentic wrap gets the hint.
      const tampered = twoFields(p.publicKey, OAEP, der);
      tampered.encryptedPrivateKey[tampered.encryptedPrivateKey.length - 3] ^= 0x40;
      await expectCode(engine.importKeyMaterial({ tenant: TENANT, keyId: p.keyId, importToken: p.importToken, ...tampered }), 'DECRYPT_MATERIAL_FAILED', /^The encrypted key material could not be decrypted\.$/);
      await expectCode(engine.importKeyMaterial({ tenant: TENANT, keyId: p.keyId, importToken: p.importToken, ...twoFields(p.publicKey, OAEP, der) }), 'INVALID_PRIVATE_KEY', message);
      // All or nothing: still waiting for material.
      expect((await engine.describeKey({ tenant: TENANT, keyId: p.keyId })).state).toBe('PendingImport');
      await expectCode(engine.getPublicKey({ tenant: TENANT, keyId: p.keyId }), 'KEY_STATE_UNSUPPORTED');
    }
  });

  it.skipIf(privateLack !== undefined)(needing(`a truncated or bit-flipped blob, a wrong temporary key or a missing field gets the uniform error or a clear one (${GENERIC ?? 'no private key'})`, privateLack), async () => {
    const k = customerKey(GENERIC!);
    const p = await params(GENERIC!);
    const good = twoFields(p.publicKey, OAEP, k.pkcs8);
    const imp = (fields: { encryptedKeyMaterial: Uint8Array; encryptedPrivateKey?: Uint8Array }) =>
      engine.importKeyMaterial({ tenant: TENANT, keyId: p.keyId, importToken: p.importToken, ...fields });
    const flipped = Uint8Array.from(good.encryptedPrivateKey);
    flipped[flipped.length - 3] ^= 0x40;
    await expectCode(imp({ ...good, encryptedPrivateKey: flipped }), 'DECRYPT_MATERIAL_FAILED');
    await expectCode(imp({ ...good, encryptedPrivateKey: good.encryptedPrivateKey.subarray(0, good.encryptedPrivateKey.length - 8) }), 'DECRYPT_MATERIAL_FAILED');
    // The temporary key of another wrap (same length, wrong key): the wrap's integrity check fails.
    await expectCode(imp({ encryptedKeyMaterial: twoFields(p.publicKey, OAEP, k.pkcs8).encryptedKeyMaterial, encryptedPrivateKey: good.encryptedPrivateKey }), 'DECRYPT_MATERIAL_FAILED');
    await expectCode(imp({ encryptedKeyMaterial: good.encryptedKeyMaterial }), 'INVALID_PARAMETER', /encrypted_privatekey/);
    if (backend.verifiesMaterialLength) {
      // A 16-byte temporary key is refused (exactly 32 bytes), with the uniform error.
      const short = new Uint8Array(randomBytes(16));
      await expectCode(imp(twoFields(p.publicKey, OAEP, k.pkcs8, short)), 'DECRYPT_MATERIAL_FAILED');
    }
    const e = await params(GENERIC!, ENVELOPE);
    const blob = singleBlob(e.publicKey, envelopeHash, k.pkcs8);
    const impBlob = (encryptedKeyMaterial: Uint8Array) => engine.importKeyMaterial({ tenant: TENANT, keyId: e.keyId, importToken: e.importToken, encryptedKeyMaterial });
    await expectCode(impBlob(blob.subarray(0, 256 + 8)), 'DECRYPT_MATERIAL_FAILED');
    await expectCode(impBlob(blob.subarray(0, blob.length - 8)), 'DECRYPT_MATERIAL_FAILED');
    const flippedBlob = Uint8Array.from(blob);
    flippedBlob[10] ^= 1;
    await expectCode(impBlob(flippedBlob), 'DECRYPT_MATERIAL_FAILED');
    await expectCode(engine.importKeyMaterial({ tenant: TENANT, keyId: e.keyId, importToken: e.importToken, encryptedKeyMaterial: blob, encryptedPrivateKey: good.encryptedPrivateKey }), 'INVALID_PARAMETER');
    expect((await engine.describeKey({ tenant: TENANT, keyId: e.keyId })).state).toBe('PendingImport');
    // And the good blob still imports: failures changed nothing.
    expect((await impBlob(blob)).state).toBe('Enabled');
  });

  /** An RSA part whose padding is bad: a random block below n, raw-encrypted (no padding at all). */
  function badPaddingHead(publicKey: string): Uint8Array {
    const key = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
    return new Uint8Array(publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, Buffer.concat([Buffer.of(0), randomBytes(255)])));
  }

  it.skipIf(privateLack !== undefined)(needing(`envelope imports run the key-wrap step when the RSA part's padding is bad, with the same work and error as a bad key wrap, and count against the budget (issue 14 defect 6; ${GENERIC ?? 'no private key'})`, privateLack), async () => {
    const k = customerKey(GENERIC!);
    const kwp = vi.spyOn(backend, 'unwrapWithTemporaryKey');
    const release = vi.spyOn(backend, 'release');
    // On a device: every C_UnwrapKey (the RSA part's and the key wrap's) is counted.
    const p11 = (backend as { device?: { p11: { C_UnwrapKeyAsync: (...args: never[]) => unknown } } }).device?.p11;
    const deviceUnwraps = p11 ? vi.spyOn(p11, 'C_UnwrapKeyAsync') : undefined;
    try {
      const two = await params(GENERIC!);
      const blob = await params(GENERIC!, ENVELOPE);
      const classes = {
        'two fields, RSA part bad': () => ({ p: two, fields: { ...twoFields(two.publicKey, OAEP, k.pkcs8), encryptedKeyMaterial: badPaddingHead(two.publicKey) } }),
        'two fields, RSA ok, key wrap bad': () => ({ p: two, fields: { ...twoFields(two.publicKey, OAEP, k.pkcs8), encryptedPrivateKey: aesKwpWrap(new Uint8Array(randomBytes(32)), k.pkcs8) } }),
        'single blob, RSA part bad': () => {
          const good = singleBlob(blob.publicKey, envelopeHash, k.pkcs8);
          good.set(badPaddingHead(blob.publicKey), 0);
          return { p: blob, fields: { encryptedKeyMaterial: good } };
        },
        'single blob, RSA ok, key wrap bad': () => {
          const good = singleBlob(blob.publicKey, envelopeHash, k.pkcs8);
          good[good.length - 1] ^= 1;
          return { p: blob, fields: { encryptedKeyMaterial: good } };
        },
      };
      const work: Record<string, number[]> = {};
      for (const [name, make] of Object.entries(classes)) {
        // Twice each, so that both tokens spend 4 of their 10 attempts on these classes.
        for (let i = 0; i < 2; i++) {
          kwp.mockClear();
          release.mockClear();
          deviceUnwraps?.mockClear();
          const { p, fields } = make();
          await expectCode(engine.importKeyMaterial({ tenant: TENANT, keyId: p.keyId, importToken: p.importToken, ...fields }), 'DECRYPT_MATERIAL_FAILED', /^The encrypted key material could not be decrypted\.$/);
          work[name] = [kwp.mock.calls.length, release.mock.calls.length, deviceUnwraps?.mock.calls.length ?? 0];
        }
      }
      expect(work['two fields, RSA part bad'][0], 'the key-wrap step ran on a substitute key').toBe(1);
      expect(work['two fields, RSA part bad']).toEqual(work['two fields, RSA ok, key wrap bad']);
      expect(work['single blob, RSA part bad'][0]).toBe(1);
      expect(work['single blob, RSA part bad']).toEqual(work['single blob, RSA ok, key wrap bad']);
      // The budget as before: every failure counted (10 per token; 4 spent, 6 left, then exhausted).
      for (const [p, make] of [[two, classes['two fields, RSA part bad']], [blob, classes['single blob, RSA part bad']]] as const) {
        for (let i = 0; i < 6; i++) await expectCode(engine.importKeyMaterial({ tenant: TENANT, keyId: p.keyId, importToken: p.importToken, ...make().fields }), 'DECRYPT_MATERIAL_FAILED');
        await expectCode(engine.importKeyMaterial({ tenant: TENANT, keyId: p.keyId, importToken: p.importToken, ...make().fields }), 'IMPORT_TOKEN_EXHAUSTED');
        expect((await engine.describeKey({ tenant: TENANT, keyId: p.keyId })).state).toBe('PendingImport');
      }
    } finally {
      kwp.mockRestore();
      release.mockRestore();
      deviceUnwraps?.mockRestore();
    }
  });

  /** Import an HMAC key of `spec` directly (openssl pkeyutl) or as a single blob; MACs equal `openssl dgst -mac HMAC`. */
  async function proveHmacImport(spec: MaterialSpec, asBlob: boolean) {
    const reason = backend.unsupportedReason({ materialSpec: spec });
    if (reason !== undefined) {
      expect(await engine.createKey({ tenant: TENANT, keySpec: spec }).catch((e: unknown) => e)).toMatchObject({ code: 'ALGORITHM_UNSUPPORTED', message: reason });
      return;
    }
    const hmacKey = new Uint8Array(randomBytes(MATERIAL_SPECS[spec].length));
    const hash = MATERIAL_SPECS[spec].hmacHash!;
    const message = new Uint8Array(randomBytes(64));
    const p = await params(spec, asBlob ? ENVELOPE : OAEP);
    const encryptedKeyMaterial = asBlob ? singleBlob(p.publicKey, envelopeHash, hmacKey) : opensslPkeyutlEncrypt(Buffer.from(p.publicKey, 'base64'), hmacKey, SEED_PKEYOPTS[OAEP]);
    await engine.importKeyMaterial({ tenant: TENANT, keyId: p.keyId, importToken: p.importToken, encryptedKeyMaterial });
    const expected = openssl(['dgst', `-${hash}`, '-mac', 'HMAC', '-macopt', `hexkey:${Buffer.from(hmacKey).toString('hex')}`, '-binary'], message);
    const { mac, macAlgorithm } = await engine.generateMac({ tenant: TENANT, keyId: p.keyId, message });
    expect(Buffer.from(mac)).toEqual(expected);
    expect(macAlgorithm).toBe(`HMAC_SHA_${spec.slice(5)}`);
    expect((await engine.verifyMac({ tenant: TENANT, keyId: p.keyId, message, mac })).macValid).toBe(true);
    expect((await engine.verifyMac({ tenant: TENANT, keyId: p.keyId, message, mac: mac.subarray(1) })).macValid).toBe(false);
    await expectCode(engine.encrypt({ tenant: TENANT, keyId: p.keyId, plaintext: message }), 'INVALID_KEY_USAGE');
    // A key of another length is the uniform error (where the backend can see the length).
    if (!asBlob && backend.verifiesMaterialLength) {
      const c = await params(spec);
      await expectCode(engine.importKeyMaterial({ tenant: TENANT, keyId: c.keyId, importToken: c.importToken, encryptedKeyMaterial: opensslPkeyutlEncrypt(Buffer.from(c.publicKey, 'base64'), new Uint8Array(randomBytes(MATERIAL_SPECS[spec].length + 1)), SEED_PKEYOPTS[OAEP]) }), 'DECRYPT_MATERIAL_FAILED');
    }
  }

  describe.each(HMAC_SPECS)('%s', (spec) => {
    it('imported directly (openssl pkeyutl); MACs equal `openssl dgst -mac HMAC`', () => proveHmacImport(spec, false));
    it.skipIf(envelopeLack !== undefined)(needing('imported as a single RSA_AES_KEY_WRAP blob; MACs equal `openssl dgst -mac HMAC`', envelopeLack), () => proveHmacImport(spec, true));
  });

  it.skipIf(aesLack !== undefined)(needing('usage rules: AES keys neither sign nor MAC; a two-field import of an AES key is refused', aesLack), async () => {
    const p = await params('AES_256');
    const aes = new Uint8Array(randomBytes(32));
    await expectCode(engine.importKeyMaterial({ tenant: TENANT, keyId: p.keyId, importToken: p.importToken, ...twoFields(p.publicKey, OAEP, aes) }), 'INVALID_PARAMETER');
    await engine.importKeyMaterial({ tenant: TENANT, keyId: p.keyId, importToken: p.importToken, encryptedKeyMaterial: opensslPkeyutlEncrypt(Buffer.from(p.publicKey, 'base64'), aes, SEED_PKEYOPTS[OAEP]) });
    await expectCode(engine.sign({ tenant: TENANT, keyId: p.keyId, message: aes, signingAlgorithm: 'ECDSA_SHA_256' }), 'INVALID_PARAMETER');
    await expectCode(engine.generateMac({ tenant: TENANT, keyId: p.keyId, message: aes }), 'INVALID_KEY_USAGE');
    await expectCode(engine.getPublicKey({ tenant: TENANT, keyId: p.keyId }), 'INVALID_KEY_USAGE');
  });
});
