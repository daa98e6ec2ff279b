/**
 * The pure TypeScript backend: node:crypto (OpenSSL) for RSA and AES, our branch-free decoders
 * where Node will not do the padding, SM2 on node ECDH / @noble/curves, SM4-GCM composed from
 * SM4 and @noble/ciphers' GHASH. Material lives in handles that zeroize on release and is
 * stored only sealed under the master key.
 */
import { createHmac, generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { aesKwpUnwrap } from '../../algorithms/aes-kwp.js';
import { validatePrivateKey } from '../../algorithms/private-keys/pkcs8.js';
import { signWithPkcs8 } from '../../algorithms/private-keys/signing.js';
import { generateRsaKeyPair } from '../../algorithms/rsa/rsa-keygen.js';
import { rsaesDecryptForKat } from '../../algorithms/rsa/rsa-unwrap.js';
import { destroySm2PrivateKey, generateSm2KeyPair, sm2Decrypt, sm2PrivateKeyFromScalar } from '../../algorithms/sm2/index.js';
import {
  MATERIAL_SPECS,
  WRAPPING_ALGORITHMS,
  WRAPPING_KEY_SPECS,
  type MaterialSpec,
  type SigningAlgorithm,
  type WrappingAlgorithm,
  type WrappingKeySpec,
} from '../../algorithms/specs.js';
import { asBuffer, zeroize } from '../../bytes.js';
import { systemClock, type Clock } from '../../clock.js';
import { ByokError, decryptMaterialFailed } from '../../errors.js';
import type { CryptoBackend, KatOperations, MaterialHandle, UnwrapRequest, WrappingKeyPair } from '../crypto-backend.js';
import { MaterialSealer, type MasterKey } from './material-seal.js';
import { gcmDecrypt, gcmEncrypt } from './symmetric.js';
import { PrivateKeyWorkerPool } from './worker-pool.js';
import { WrappingKeyUnwrapper } from './wrapping-key-unwrapper.js';

export interface PureBackendOptions {
  /** The current master key (32 bytes) that seals material at rest. */
  readonly masterKey: Uint8Array;
  /** Its ID, stored with every sealed blob (default "mk1"). */
  readonly masterKeyId?: string;
  /** Older master keys still needed to open material sealed before a rotation. */
  readonly previousMasterKeys?: readonly MasterKey[];
  readonly clock?: Clock;
  /** Parsed wrapping keys kept in memory, per thread (default 1024). */
  readonly keyCacheSize?: number;
  /**
   * Worker threads for private-key unwraps (0 = on the calling thread, the default). A server
   * passes the core count so unwraps use every core and the event loop stays free.
   */
  readonly workers?: number;
}

/** generateKeyPair with DER outputs (promisify loses the overload that says so). */
const generateKeyPairAsync = promisify(generateKeyPair) as (type: 'rsa' | 'ec', options: object) => Promise<{ publicKey: Buffer; privateKey: Buffer }>;

/**
 * The handle: material in a private field (not enumerable, not printed by util.inspect).
 * Symmetric and HMAC keys: the key bytes. Private keys: the PKCS#8 DER, with its public key.
 */
class PureMaterialHandle implements MaterialHandle {
  readonly backend = 'pure' as const;
  #material: Uint8Array | null;

  constructor(
    readonly materialSpec: MaterialSpec,
    material: Uint8Array,
    /** Private keys: the DER SubjectPublicKeyInfo derived when the key was validated. */
    readonly publicKeySpki?: Uint8Array,
  ) {
    this.#material = material;
  }

  material(): Uint8Array {
    if (!this.#material) throw new ByokError('INTERNAL_ERROR', 'Key material handle was released.');
    return this.#material;
  }

  release(): void {
    zeroize(this.#material);
    this.#material = null;
  }

  toJSON(): object {
    return { backend: this.backend, materialSpec: this.materialSpec };
  }
}

function asPureHandle(handle: MaterialHandle): PureMaterialHandle {
  if (!(handle instanceof PureMaterialHandle)) throw new ByokError('INTERNAL_ERROR', 'Handle from another backend.');
  return handle;
}

/** Only symmetric keys encrypt: an HMAC key must never become an AES key. */
function asSymmetric(handle: MaterialHandle): PureMaterialHandle {
  const h = asPureHandle(handle);
  if (MATERIAL_SPECS[h.materialSpec].kind !== 'symmetric') throw new ByokError('INVALID_KEY_USAGE');
  return h;
}

const FINGERPRINT_DOMAIN = 'byok/material-fingerprint/v1\0';

export class PureBackend implements CryptoBackend {
  readonly id = 'pure' as const;
  readonly verifiesMaterialLength = true;
  private readonly sealer: MaterialSealer;
  private readonly clock: Clock;
  private readonly unwrapper: WrappingKeyUnwrapper;
  private readonly pool?: PrivateKeyWorkerPool;

  constructor(options: PureBackendOptions) {
    this.sealer = new MaterialSealer([
      { id: options.masterKeyId ?? 'mk1', key: options.masterKey },
      ...(options.previousMasterKeys ?? []),
    ]);
    this.clock = options.clock ?? systemClock;
    this.unwrapper = new WrappingKeyUnwrapper(this.clock, options.keyCacheSize ?? 1024);
    if (options.workers && options.workers > 0) this.pool = new PrivateKeyWorkerPool(options.workers, options.keyCacheSize ?? 1024);
  }

  /** Worker threads in use (0 = inline). */
  get workerCount(): number {
    return this.pool?.size ?? 0;
  }

  // Every algorithm × spec pair the table allows; the table refuses SM2 with RSA and vice versa.
  supports(algorithm: WrappingAlgorithm, keySpec: WrappingKeySpec, _materialSpec: MaterialSpec): boolean {
    return WRAPPING_ALGORITHMS[algorithm].family === WRAPPING_KEY_SPECS[keySpec].family;
  }

  unsupportedReason(algorithm: WrappingAlgorithm, keySpec: WrappingKeySpec, materialSpec: MaterialSpec): string | undefined {
    return this.supports(algorithm, keySpec, materialSpec) ? undefined : `${algorithm} cannot be used with ${keySpec}.`;
  }

  // Every key spec in the table.
  keySpecUnsupportedReason(_materialSpec: MaterialSpec): string | undefined {
    return undefined;
  }

  async generateWrappingKeyPair(keySpec: WrappingKeySpec): Promise<WrappingKeyPair> {
    const info = WRAPPING_KEY_SPECS[keySpec];
    const pair = info.family === 'SM2' ? await generateSm2KeyPair() : await generateRsaKeyPair(info.bits as 2048 | 3072 | 4096);
    return { keySpec, publicKeySpki: pair.publicKeySpki, privateKeyBlob: pair.privateKeyPkcs8 };
  }

  async unwrapMaterial(request: UnwrapRequest): Promise<MaterialHandle> {
    if (!this.supports(request.algorithm, request.keySpec, request.materialSpec)) {
      throw new ByokError('ALGORITHM_UNSUPPORTED', this.unsupportedReason(request.algorithm, request.keySpec, request.materialSpec));
    }
    const material = this.pool ? await this.pool.unwrap(request) : this.unwrapper.unwrap(request);
    return new PureMaterialHandle(request.materialSpec, material);
  }

  async unwrapWithTemporaryKey(temporaryKey: MaterialHandle, wrapped: Uint8Array, materialSpec: MaterialSpec): Promise<MaterialHandle> {
    const kek = asPureHandle(temporaryKey).material();
    if (kek.length !== 32) throw decryptMaterialFailed();
    const plain = aesKwpUnwrap(kek, wrapped);
    const info = MATERIAL_SPECS[materialSpec];
    if (info.kind !== 'private-key') {
      if (plain.length !== info.length) {
        zeroize(plain);
        throw decryptMaterialFailed();
      }
      return new PureMaterialHandle(materialSpec, plain);
    }
    try {
      return new PureMaterialHandle(materialSpec, plain, validatePrivateKey(plain, materialSpec));
    } catch (e) {
      zeroize(plain);
      throw e;
    }
  }

  async publicKey(handle: MaterialHandle): Promise<Uint8Array> {
    const spki = asPureHandle(handle).publicKeySpki;
    if (!spki) throw new ByokError('INVALID_KEY_USAGE');
    return spki;
  }

  async sign(handle: MaterialHandle, algorithm: SigningAlgorithm, message: Uint8Array): Promise<Uint8Array> {
    const h = asPureHandle(handle);
    if (!h.publicKeySpki) throw new ByokError('INVALID_KEY_USAGE');
    return signWithPkcs8(h.material(), algorithm, message);
  }

  async generateMac(handle: MaterialHandle, message: Uint8Array): Promise<Uint8Array> {
    const h = asPureHandle(handle);
    const hash = MATERIAL_SPECS[h.materialSpec].hmacHash;
    if (!hash) throw new ByokError('INVALID_KEY_USAGE');
    return new Uint8Array(createHmac(hash, asBuffer(h.material())).update(message).digest());
  }

  async generateMaterial(materialSpec: MaterialSpec): Promise<MaterialHandle> {
    const info = MATERIAL_SPECS[materialSpec];
    if (!info.privateKey) return new PureMaterialHandle(materialSpec, new Uint8Array(randomBytes(info.length)));
    const key = info.privateKey;
    const der = { privateKeyEncoding: { type: 'pkcs8', format: 'der' }, publicKeyEncoding: { type: 'spki', format: 'der' } } as const;
    const pair = key.type === 'rsa'
      ? await generateKeyPairAsync('rsa', { modulusLength: key.bits, publicExponent: 65537, ...der })
      : await generateKeyPairAsync('ec', { namedCurve: key.opensslName, ...der });
    const pkcs8 = new Uint8Array(pair.privateKey);
    // Through the same validation as an imported key: the SPKI is the one getPublicKey returns.
    return new PureMaterialHandle(materialSpec, pkcs8, validatePrivateKey(pkcs8, materialSpec));
  }

  async fingerprintMaterial(handle: MaterialHandle, keyId: string): Promise<Uint8Array> {
    const h = asPureHandle(handle);
    const mac = createHmac('sha256', asBuffer(h.material()));
    mac.update(FINGERPRINT_DOMAIN + keyId + '\0' + h.materialSpec, 'utf8');
    return new Uint8Array(mac.digest());
  }

  async persistMaterial(handle: MaterialHandle, keyId: string): Promise<Uint8Array> {
    const h = asPureHandle(handle);
    return this.sealer.seal(h.material(), keyId, h.materialSpec);
  }

  async loadMaterial(stored: Uint8Array, materialSpec: MaterialSpec, keyId: string): Promise<MaterialHandle> {
    const material = this.sealer.open(stored, keyId, materialSpec);
    const info = MATERIAL_SPECS[materialSpec];
    try {
      if (info.privateKey) return new PureMaterialHandle(materialSpec, material, validatePrivateKey(material, materialSpec));
      if (material.length !== info.length) throw new Error('length');
      return new PureMaterialHandle(materialSpec, material);
    } catch {
      zeroize(material);
      throw new ByokError('INTERNAL_ERROR', 'Stored key material is not valid for its spec.');
    }
  }

  // Nothing outside the store holds sealed material: deleting the row is the destruction.
  async destroyPersistedMaterial(_stored: Uint8Array, _keyId: string): Promise<void> {}

  async encrypt(handle: MaterialHandle, plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    const h = asSymmetric(handle);
    return gcmEncrypt(h.materialSpec, h.material(), plaintext, aad);
  }

  async decrypt(handle: MaterialHandle, ciphertext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    const h = asSymmetric(handle);
    return gcmDecrypt(h.materialSpec, h.material(), ciphertext, aad);
  }

  release(handle: MaterialHandle): void {
    asPureHandle(handle).release();
  }

  readonly kat: KatOperations = {
    rsaesDecrypt: async (pkcs8, params, ciphertext) => rsaesDecryptForKat(pkcs8, params, ciphertext),
    aesKwpUnwrap: async (kek, wrapped) => aesKwpUnwrap(kek, wrapped),
    sm2Decrypt: async (d, ciphertext, options) => {
      const key = sm2PrivateKeyFromScalar(d, options.curve);
      try {
        return sm2Decrypt(key, ciphertext, options);
      } finally {
        destroySm2PrivateKey(key);
      }
    },
  };

  async close(): Promise<void> {
    this.unwrapper.clear();
    await this.pool?.close();
  }
}

export function createPureBackend(options: PureBackendOptions): PureBackend {
  return new PureBackend(options);
}
