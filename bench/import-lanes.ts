/**
 * The fixtures the in-process bench rows share (bench/run.ts and the profiled rows of
 * bench/profile-rows.ts): wrappings made with the real public key, lanes of prepared imports
 * (one key and token each), and a driver that keeps N operations in flight.
 */
import { constants, createPublicKey, publicEncrypt } from 'node:crypto';
import smCrypto from 'sm-crypto';
import { WRAPPING_ALGORITHMS, type WrappingAlgorithm } from '../src/algorithms/specs.js';
import type { WrappingKeyPair } from '../src/backends/crypto-backend.js';
import type { openEngine } from '../src/open-engine.js';

export function wrapFor(pair: WrappingKeyPair, algorithm: WrappingAlgorithm, material: Uint8Array): Uint8Array {
  const padding = WRAPPING_ALGORITHMS[algorithm].rsaPadding;
  if (!padding) {
    const point = Buffer.from(pair.publicKeySpki.subarray(pair.publicKeySpki.length - 65)).toString('hex');
    return new Uint8Array(Buffer.from('04' + smCrypto.sm2.doEncrypt(Array.from(material), point, 1), 'hex'));
  }
  const key = createPublicKey({ key: Buffer.from(pair.publicKeySpki), format: 'der', type: 'spki' });
  return new Uint8Array(padding.kind === 'pkcs1v15'
    ? publicEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, material)
    : publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: padding.hash }, material));
}

/** Keep `inFlight` operations running for `seconds`; ops/s. */
export async function concurrentRate(seconds: number, inFlight: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async (_, w) => {
    for (let i = w; performance.now() < end; i += inFlight) {
      await op(i);
      done++;
    }
  }));
  return done / ((performance.now() - start) / 1000);
}

export type Engine = Awaited<ReturnType<typeof openEngine>>;

/** One import at a time on a lane: its own key and token, 16 wrappings of one material. */
export async function importLanes(engine: Engine, count: number, material: Uint8Array): Promise<Array<() => Promise<unknown>>> {
  return Promise.all(Array.from({ length: count }, async () => {
    const key = await engine.createKey({ tenant: 't' });
    const params = await engine.getParametersForImport({ tenant: 't', keyId: key.keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
    const spki = { keySpec: 'RSA_2048' as const, publicKeySpki: new Uint8Array(Buffer.from(params.publicKey, 'base64')), privateKeyBlob: new Uint8Array() };
    const cts = Array.from({ length: 16 }, () => Buffer.from(wrapFor(spki, 'RSAES_OAEP_SHA_256', material)).toString('base64'));
    let i = 0;
    return () => engine.importKeyMaterial({ tenant: 't', keyId: key.keyId, importToken: params.importToken, encryptedKeyMaterial: cts[i++ % 16] });
  }));
}

/** `inFlight` lanes over the prepared ones (several lanes may share a token: budgets count failures only). */
export const spread = (lanes: Array<() => Promise<unknown>>, inFlight: number) => Array.from({ length: inFlight }, (_, i) => lanes[i % lanes.length]);
