/**
 * Parse (and cache) a wrapping private key, unwrap with it, check the material length. The one
 * implementation of the pure unwrap, run inline or inside a worker thread (worker-pool.ts).
 */
import { createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { expectGood, withSubstitute, type MaskedDecode } from '../../algorithms/rsa/ct.js';
import { rsaUnwrapMasked } from '../../algorithms/rsa/rsa-unwrap.js';
import { destroySm2PrivateKey, parseSm2PrivateKey, sm2UnwrapMasked, type Sm2PrivateKey } from '../../algorithms/sm2/index.js';
import { MATERIAL_SPECS, WRAPPING_ALGORITHMS, WRAPPING_KEY_SPECS, type WrappingKeySpec } from '../../algorithms/specs.js';
import { asBuffer } from '../../bytes.js';
import type { Clock } from '../../clock.js';
import type { UnwrapRequest } from '../crypto-backend.js';
import { ByokError, decryptMaterialFailed } from '../../errors.js';
import { ExpiringCache } from '../key-cache.js';

/**
 * What an unwrap gives: the material, or for a temporary key (UnwrapRequest.temporaryKey) whose
 * padding was bad a random substitute with `rejected` set (implicit rejection): the next
 * layer's unwrap runs on it all the same and the import fails after it.
 */
export interface UnwrapOutcome {
  readonly material: Uint8Array;
  readonly rejected: boolean;
}

type ParsedWrappingKey = { family: 'RSA'; key: KeyObject } | { family: 'SM2'; key: Sm2PrivateKey };

export class WrappingKeyUnwrapper {
  private readonly cache: ExpiringCache<ParsedWrappingKey>;

  constructor(clock: Clock, cacheSize: number) {
    this.cache = new ExpiringCache<ParsedWrappingKey>(cacheSize, clock, (k) => {
      if (k.family === 'SM2') destroySm2PrivateKey(k.key);
    });
  }

  private parse(keySpec: WrappingKeySpec, blob: Uint8Array): ParsedWrappingKey {
    const info = WRAPPING_KEY_SPECS[keySpec];
    if (info.family === 'SM2') return { family: 'SM2', key: parseSm2PrivateKey(blob) };
    const key = createPrivateKey({ key: asBuffer(blob), format: 'der', type: 'pkcs8' });
    // The token is authenticated, so a mismatch here is our own bug, not client input.
    if (key.asymmetricKeyType !== 'rsa' || key.asymmetricKeyDetails?.modulusLength !== info.bits) {
      throw new ByokError('INTERNAL_ERROR', 'Wrapping key does not match its spec.');
    }
    return { family: 'RSA', key };
  }

  /** Whether a parsed key is cached under `cacheKey` (and unexpired). */
  has(cacheKey: string): boolean {
    return this.cache.get(cacheKey) !== undefined;
  }

  private keyFor(request: UnwrapRequest): ParsedWrappingKey {
    const cached = request.cacheKey !== undefined ? this.cache.get(request.cacheKey) : undefined;
    if (cached) return cached;
    const parsed = this.parse(request.keySpec, request.privateKeyBlob);
    if (request.cacheKey !== undefined && request.cacheUntil !== undefined) this.cache.set(request.cacheKey, parsed, request.cacheUntil);
    return parsed;
  }

  /**
   * The material, exactly the spec's length; every unwrap failure is the uniform error, except
   * that a temporary key's secret-dependent failure is an implicit rejection (UnwrapOutcome).
   * The substitute is drawn on every call, so both outcomes do the same work.
   */
  unwrap(request: UnwrapRequest): UnwrapOutcome {
    const expectedLength = MATERIAL_SPECS[request.materialSpec].length;
    const decoded = this.decode(request, expectedLength);
    // The length is public here (RSA: fixed by the decoder; SM2: the C2 length).
    if (decoded.out.length !== expectedLength) throw decryptMaterialFailed();
    if (!request.temporaryKey) return { material: expectGood(decoded), rejected: false };
    const { good, out } = withSubstitute(decoded, new Uint8Array(randomBytes(expectedLength)));
    return { material: out, rejected: good !== 1 };
  }

  private decode(request: UnwrapRequest, expectedLength: number): MaskedDecode {
    const algorithm = WRAPPING_ALGORITHMS[request.algorithm];
    const wrappingKey = this.keyFor(request);
    if (wrappingKey.family === 'RSA' && algorithm.rsaPadding) {
      return rsaUnwrapMasked(wrappingKey.key, algorithm.rsaPadding, request.ciphertext, expectedLength);
    }
    if (wrappingKey.family === 'SM2' && algorithm.family === 'SM2') {
      return sm2UnwrapMasked(wrappingKey.key, request.ciphertext, expectedLength);
    }
    throw decryptMaterialFailed();
  }

  clear(): void {
    this.cache.clear();
  }
}
