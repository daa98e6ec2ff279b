/**
 * PKCS#11 unwrap overhead: our backend's unwrapMaterial vs a raw pkcs11js C_UnwrapKey loop on the
 * same SoftHSM2 token and wrapping key (RSA-2048, OAEP-SHA1 → AES-256), sequential, one session
 * each. Run: npm run build && node dist/bench/pkcs11-unwrap.js [seconds]
 * Needs SoftHSM2; makes a throw-away token under a temporary SOFTHSM2_CONF.
 */
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { createPkcs11Backend } from '../src/backends/pkcs11/index.js';
import { throwAwaySoftHsmToken } from './softhsm-token.js';

export interface Pkcs11UnwrapResult {
  readonly raw: number;
  readonly ours: number;
}

/** Returns undefined when SoftHSM2 is not installed. */
export async function measurePkcs11Unwrap(seconds: number, log: (line: string) => void = console.log): Promise<Pkcs11UnwrapResult | undefined> {
const token = throwAwaySoftHsmToken();
if (!token) return undefined;

const backend = await createPkcs11Backend({ modulePath: token.module, tokenLabel: token.label, pin: token.pin, sessions: 1 });
const pair = await backend.generateWrappingKeyPair('RSA_2048');
const pub = createPublicKey({ key: Buffer.from(pair.publicKeySpki), format: 'der', type: 'spki' });
const ciphertexts = Array.from({ length: 64 }, () => publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, randomBytes(32)));

async function loop(name: string, op: (ct: Buffer) => Promise<void>): Promise<number> {
  for (let i = 0; i < 20; i++) await op(ciphertexts[i % ciphertexts.length]); // warm-up
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) await op(ciphertexts[n++ % ciphertexts.length]);
  const rate = n / ((performance.now() - start) / 1000);
  log(`${name.padEnd(44)} ${rate.toFixed(0).padStart(6)} ops/s`);
  return rate;
}

// The raw loop: the same device, the same key, the same template, no layer of ours.
const { device } = backend;
const l = device.lib;
const oaep = { mechanism: l.CKM_RSA_PKCS_OAEP, parameter: { type: l.CK_PARAMS_RSA_OAEP, hashAlg: l.CKM_SHA_1, mgf: l.CKG_MGF1_SHA1, source: 1 } as import('pkcs11js').RsaOAEP };
const key = await device.withSession((s) => {
  device.p11.C_FindObjectsInit(s, [{ type: l.CKA_CLASS, value: l.CKO_PRIVATE_KEY }, { type: l.CKA_ID, value: Buffer.from(pair.privateKeyBlob.subarray(1)) }]);
  try {
    return device.p11.C_FindObjects(s, 1)[0];
  } finally {
    device.p11.C_FindObjectsFinal(s);
  }
});
const raw = await loop('raw pkcs11js C_UnwrapKeyAsync + C_DestroyObject', (ct) => device.withSession(async (s) => {
  const h = await device.p11.C_UnwrapKeyAsync(s, oaep, key, ct, [
    { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_AES }, { type: l.CKA_TOKEN, value: false },
    { type: l.CKA_SENSITIVE, value: true }, { type: l.CKA_EXTRACTABLE, value: false }, { type: l.CKA_ENCRYPT, value: true }, { type: l.CKA_DECRYPT, value: true },
  ]);
  device.p11.C_DestroyObject(s, h);
}));
const ours = await loop('byok Pkcs11Backend.unwrapMaterial + release', async (ct) => {
  // As the engine calls it: the token digest as cache key, valid until the token expires.
  const h = await backend.unwrapMaterial({ keySpec: 'RSA_2048', algorithm: 'RSAES_OAEP_SHA_1', materialSpec: 'AES_256', privateKeyBlob: pair.privateKeyBlob, ciphertext: ct, cacheKey: 'bench-token', cacheUntil: Date.now() + 3600_000 });
  await backend.release(h);
});
await backend.close();
return { raw, ours };
}

// Run directly: node dist/bench/pkcs11-unwrap.js [seconds]
if (process.argv[1]?.endsWith('pkcs11-unwrap.js')) {
  const r = await measurePkcs11Unwrap(Number(process.argv[2] ?? 3));
  if (!r) throw new Error('SoftHSM2 not found');
  console.log(`ratio ours / raw: ${(r.ours / r.raw).toFixed(3)}`);
}
