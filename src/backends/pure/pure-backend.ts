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
import { signDigestWithPkcs8 } from '../../algorithms/private-keys/digest-signing.js';
import { signWithPkcs8 } from '../../algorithms/private-keys/signing.js';
import { checkSm2KeyPair, generateSm2KeyPairNative } from '../../algorithms/sm2/index.js';
import { MATERIAL_SPECS, WRAPPING_KEY_SPECS, type MaterialSpec, type MessageType, type SigningAlgorithm, type WrappingKeySpec } from '../../algorithms/specs.js';
import { asBuffer, zeroize } from '../../bytes.js';
import { systemClock, type Clock } from '../../clock.js';
import { ByokError, decryptMaterialFailed } from '../../errors.js';
import { BackendBase } from '../backend-base.js';
import type { MaterialHandle, UnwrapRequest, WrappingKeyPair } from '../crypto-backend.js';
import { MaterialSealer, type MasterKey } from './material-seal.js';
import { gcmDecrypt, gcmEncrypt } from './symmetric.js';
import { PrivateKeyWorkerPool } from './worker-pool.js';
import type { GeneratedKeyPair, KeyPairParameters } from './worker-protocol.js';
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
  /**
   * The worker script (default: private-key-worker.js beside this module). A bundle that
   * inlines this module passes the URL of the worker file it ships.
   */
  readonly workerUrl?: URL | string;
  /** How long a worker may take to say it is ready (default 10 s); then BACKEND_UNAVAILABLE. */
  readonly workerStartTimeoutMs?: number;
  /**
   * Worker threads of their own for RSA / EC key-pair generation (default 1 when `workers` > 0,
   * else 0: node's async generateKeyPair on libuv's thread pool). Not the unwrap workers, so a
   * burst of RSA_4096 generations does not queue imports behind it; not libuv's pool, which the
   * store's fdatasync and file I/O need (issue 14: one tenant's RSA_4096 requests stalled every
   * other tenant's writes for seconds).
   */
  readonly keyGenerationWorkers?: number;
}

/** generateKeyPair with DER outputs (promisify loses the overload that says so). */
const generateKeyPairAsync = promisify(generateKeyPair) as (type: 'rsa' | 'ec', options: object) => Promise<{ publicKey: Buffer; privateKey: Buffer }>;

const DER = { privateKeyEncoding: { type: 'pkcs8', format: 'der' }, publicKeyEncoding: { type: 'spki', format: 'der' } } as const;

/** Inline key generation (no worker threads): SM2 in the addon when built, else node's async generateKeyPair. */
async function generateKeyPairInline(parameters: KeyPairParameters): Promise<GeneratedKeyPair> {
  const sm2 = parameters.type === 'ec' && parameters.namedCurve === 'SM2' ? generateSm2KeyPairNative() : undefined;
  if (sm2) return { ...sm2, checked: true };
  const pair = parameters.type === 'rsa'
    ? await generateKeyPairAsync('rsa', { modulusLength: parameters.bits, publicExponent: 0x10001, ...DER })
    : await generateKeyPairAsync('ec', { namedCurve: parameters.namedCurve, ...DER });
  return { publicKeySpki: new Uint8Array(pair.publicKey), privateKeyPkcs8: new Uint8Array(pair.privateKey) };
}

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
    /** A temporary key that is a random substitute (implicit rejection, see BackendHandle). */
    readonly rejected = false,
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

export class PureBackend extends BackendBase<PureMaterialHandle> {
  readonly id = 'pure' as const;
  readonly verifiesMaterialLength = true;
  private readonly sealer: MaterialSealer;
  private readonly clock: Clock;
  private readonly unwrapper: WrappingKeyUnwrapper;
  private readonly pool?: PrivateKeyWorkerPool;
  private readonly keyGenerationPool?: PrivateKeyWorkerPool;

  constructor(options: PureBackendOptions) {
    super();
    this.sealer = new MaterialSealer([
      { id: options.masterKeyId ?? 'mk1', key: options.masterKey },
      ...(options.previousMasterKeys ?? []),
    ]);
    this.clock = options.clock ?? systemClock;
    this.unwrapper = new WrappingKeyUnwrapper(this.clock, options.keyCacheSize ?? 1024);
    const poolOptions = {
      cacheSize: options.keyCacheSize ?? 1024,
      ...(options.workerUrl !== undefined ? { workerUrl: options.workerUrl } : {}),
      ...(options.workerStartTimeoutMs !== undefined ? { startTimeoutMs: options.workerStartTimeoutMs } : {}),
    };
    if (options.workers && options.workers > 0) this.pool = new PrivateKeyWorkerPool({ size: options.workers, ...poolOptions });
    const keyGenerationWorkers = options.keyGenerationWorkers ?? (this.pool ? 1 : 0);
    if (keyGenerationWorkers > 0) this.keyGenerationPool = new PrivateKeyWorkerPool({ size: keyGenerationWorkers, ...poolOptions });
  }

  private generateKeyPair(parameters: KeyPairParameters): Promise<GeneratedKeyPair> {
    return this.keyGenerationPool ? this.keyGenerationPool.generateKeyPair(parameters) : generateKeyPairInline(parameters);
  }

  /** Worker threads in use (0 = inline). */
  get workerCount(): number {
    return this.pool?.size ?? 0;
  }

  protected override owns(handle: MaterialHandle): handle is PureMaterialHandle {
    return handle instanceof PureMaterialHandle;
  }

  // Every key spec in the table.
  protected override materialUnsupportedReason(_materialSpec: MaterialSpec): string | undefined {
    return undefined;
  }

  // Every algorithm × spec pair the table allows (the base refuses SM2 with RSA and vice versa).
  protected override wrappingUnsupportedReason(): string | undefined {
    return undefined;
  }

  async generateWrappingKeyPair(keySpec: WrappingKeySpec): Promise<WrappingKeyPair> {
    const info = WRAPPING_KEY_SPECS[keySpec];
    const generated = await this.generateKeyPair(info.family === 'SM2' ? { type: 'ec', namedCurve: 'SM2' } : { type: 'rsa', bits: info.bits });
    // Postcondition for SM2: the pair matches (checked in C when the addon made it).
    const pair = info.family === 'SM2' && !generated.checked ? checkSm2KeyPair(generated) : generated;
    return { keySpec, publicKeySpki: pair.publicKeySpki, privateKeyBlob: pair.privateKeyPkcs8 };
  }

  protected override async onUnwrapMaterial(request: UnwrapRequest): Promise<PureMaterialHandle> {
    const { material, rejected } = this.pool ? await this.pool.unwrap(request) : this.unwrapper.unwrap(request);
    return new PureMaterialHandle(request.materialSpec, material, undefined, rejected);
  }

  protected override async onUnwrapWithTemporaryKey(temporaryKey: PureMaterialHandle, wrapped: Uint8Array, materialSpec: MaterialSpec): Promise<PureMaterialHandle> {
    const plain = aesKwpUnwrap(temporaryKey.material(), wrapped);
    // Under a substitute key the RFC 5649 integrity check fails but for ~2^-32 odds; should it
    // pass, the result is never looked at (no length check, no PKCS#8 parse on it).
    if (temporaryKey.rejected) {
      zeroize(plain);
      throw decryptMaterialFailed();
    }
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

  protected override async onSign(handle: PureMaterialHandle, algorithm: SigningAlgorithm, message: Uint8Array, messageType: MessageType): Promise<Uint8Array> {
    return messageType === 'DIGEST' ? signDigestWithPkcs8(handle.material(), algorithm, message) : signWithPkcs8(handle.material(), algorithm, message);
  }

  protected override async onGenerateMac(handle: PureMaterialHandle, message: Uint8Array): Promise<Uint8Array> {
    const hash = MATERIAL_SPECS[handle.materialSpec].hmacHash!;
    return new Uint8Array(createHmac(hash, asBuffer(handle.material())).update(message).digest());
  }

  protected override async onGenerateMaterial(materialSpec: MaterialSpec): Promise<PureMaterialHandle> {
    const info = MATERIAL_SPECS[materialSpec];
    if (!info.privateKey) return new PureMaterialHandle(materialSpec, new Uint8Array(randomBytes(info.length)));
    const key = info.privateKey;
    const pair = await this.generateKeyPair(key.type === 'rsa' ? { type: 'rsa', bits: key.bits } : { type: 'ec', namedCurve: key.opensslName });
    const pkcs8 = pair.privateKeyPkcs8;
    // Through the same validation as an imported key: the SPKI is the one getPublicKey returns.
    return new PureMaterialHandle(materialSpec, pkcs8, validatePrivateKey(pkcs8, materialSpec));
  }

  // HMAC-SHA256 keyed by the material, whatever its kind.
  protected override async onFingerprint(handle: PureMaterialHandle, message: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(createHmac('sha256', asBuffer(handle.material())).update(message).digest());
  }

  protected override async onPersist(handle: PureMaterialHandle, keyId: string): Promise<Uint8Array> {
    return this.sealer.seal(handle.material(), keyId, handle.materialSpec);
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

  protected override async onEncrypt(handle: PureMaterialHandle, plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    return gcmEncrypt(handle.materialSpec, handle.material(), plaintext, aad);
  }

  protected override async onDecrypt(handle: PureMaterialHandle, ciphertext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    return gcmDecrypt(handle.materialSpec, handle.material(), ciphertext, aad);
  }

  protected override async onRelease(handle: PureMaterialHandle): Promise<void> {
    handle.release();
  }

  /** Readiness: the private-key workers and the key-generation worker have all said their hello. */
  async checkReady(): Promise<void> {
    await Promise.all([this.pool?.checkReady(), this.keyGenerationPool?.checkReady()]);
  }

  async close(): Promise<void> {
    this.unwrapper.clear();
    await Promise.all([this.pool?.close(), this.keyGenerationPool?.close()]);
  }
}

export function createPureBackend(options: PureBackendOptions): PureBackend {
  return new PureBackend(options);
}
