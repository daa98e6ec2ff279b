/**
 * The SM2 addon (native-bindings/sm2: C over N-API on node's own OpenSSL), loaded once, lazily,
 * on the first SM2 key. It generates SM2 key pairs, and runs the same decrypt as sm2-decrypt.ts — same inputs, same bytes,
 * the same one failure — at OpenSSL's speed: the TypeScript engine pays for node's ECDH, which
 * re-checks the key pair on every call, and for a square root to recover y2.
 *
 * When the addon is not built (`npm run build:native`), or does not load, the TypeScript engine
 * is used instead; the choice is made once per thread (each worker thread loads its own instance
 * of the addon) and reported by sm2Engine().
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { bigIntToBytes } from '../../bytes.js';
import type { MaskedDecode } from '../rsa/ct.js';
import { isSm2p256v1, type Sm2CurveParams } from './curve.js';

/** An EC group and a scalar d held in C; d is cleared by destroyNativeSm2Key or when collected. */
export type NativeSm2Key = { readonly __nativeSm2Key: unique symbol };

/** The addon's exports (native-bindings/sm2/src/sm2_addon.c). */
interface Sm2Addon {
  readonly openssl: string;
  createKey(d: Uint8Array, curve?: readonly Uint8Array[] | null): NativeSm2Key;
  decrypt(key: NativeSm2Key, ciphertext: Uint8Array, hash: number, encoding: number, mode: number, expectedLength: number): MaskedDecode | null;
  destroyKey(key: NativeSm2Key): void;
  /** A new sm2p256v1 pair from EVP_PKEY_keygen: d (32 bytes, secret) and 04 ‖ x ‖ y, checked in C to be [d]G. */
  generateKey(): { readonly d: Uint8Array; readonly point: Uint8Array };
}

export type Sm2EngineName = 'openssl-addon' | 'typescript';

export interface Sm2EngineChoice {
  readonly engine: Sm2EngineName;
  /** What runs, or why the addon does not. */
  readonly detail: string;
}

// src/algorithms/sm2 (tests, tsx) and dist/src/algorithms/sm2 (the build) sit 3 and 4 levels
// below the package root; node-gyp writes the addon under native-bindings/sm2/build/Release.
const ADDON_PATHS = ['../../../', '../../../../'].map((up) => fileURLToPath(new URL(`${up}native-bindings/sm2/build/Release/byok_sm2.node`, import.meta.url)));

let loaded: { readonly addon?: Sm2Addon; readonly choice: Sm2EngineChoice } | undefined;

function load(): { readonly addon?: Sm2Addon; readonly choice: Sm2EngineChoice } {
  if (loaded) return loaded;
  const path = ADDON_PATHS.find((p) => existsSync(p));
  if (!path) {
    loaded = { choice: { engine: 'typescript', detail: 'native-bindings/sm2 is not built (npx byok build-native); SM2 runs on node ECDH in TypeScript' } };
    return loaded;
  }
  try {
    const addon = createRequire(import.meta.url)(path) as Sm2Addon;
    loaded = { addon, choice: { engine: 'openssl-addon', detail: `native-bindings/sm2 on node's ${addon.openssl}` } };
  } catch (e) {
    // A build for another node ABI, or a node without the OpenSSL symbols: the fallback, said why.
    loaded = { choice: { engine: 'typescript', detail: `native-bindings/sm2 did not load (${(e as Error).message.split('\n')[0]}); SM2 runs on node ECDH in TypeScript` } };
  }
  return loaded;
}

/** The SM2 engine of this thread, chosen on first use: the addon when it loads, else TypeScript. */
export function sm2Engine(): Sm2EngineChoice {
  return load().choice;
}

/** The addon, or undefined when SM2 runs in TypeScript. */
export function nativeSm2(): Sm2Addon | undefined {
  return load().addon;
}

const curveCache = new WeakMap<Sm2CurveParams, readonly Uint8Array[]>();

/** A key for scalar d (already range-checked by the caller); sm2p256v1 uses OpenSSL's named group. */
export function createNativeSm2Key(addon: Sm2Addon, d: Uint8Array, curve: Sm2CurveParams): NativeSm2Key {
  if (isSm2p256v1(curve)) return addon.createKey(d, null);
  let params = curveCache.get(curve);
  if (!params) {
    params = [curve.p, curve.a, curve.b, curve.gx, curve.gy, curve.n].map((v) => bigIntToBytes(v));
    curveCache.set(curve, params);
  }
  return addon.createKey(d, params);
}

/** Wire values of the addon's decrypt arguments. */
export const NATIVE_HASH = { sm3: 0, sha256: 1 } as const;
export const NATIVE_ENCODING = { auto: 0, raw: 1, der: 2 } as const;
export const NATIVE_MODE = { C1C3C2: 0, C1C2C3: 1 } as const;
