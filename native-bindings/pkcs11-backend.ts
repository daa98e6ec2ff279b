/**
 * The PKCS#11 backend: the same CryptoBackend as the pure one, on a device through pkcs11js.
 *
 * - Wrapping key pairs are generated in the device (CKM_RSA_PKCS_KEY_PAIR_GEN). The private key is
 *   a token object, sensitive, non-extractable, CKA_UNWRAP only, found by a random CKA_ID that the
 *   import token carries; a sweeper destroys wrapping keys whose tokens have expired, so the
 *   number of objects stays bounded and any engine sharing the device can use any token.
 * - Material is unwrapped with C_UnwrapKey into a sensitive, non-extractable CKK_AES session
 *   object; it never exists in host memory. It is persisted by C_CopyObject as a token object
 *   (found by CKA_ID), fingerprinted with CKM_AES_CMAC and used with CKM_AES_GCM in the device.
 * - What the device cannot do is refused with ALGORITHM_UNSUPPORTED — except the opt-in
 *   `allowHostOaepDecode` mode, which decrypts raw (CKM_RSA_X_509) and decodes OAEP / PKCS#1 v1.5
 *   in TypeScript with the pure backend's branch-free decoders, then C_CreateObjects the key
 *   (the material then passes through host memory, zeroized after).
 */
import { randomBytes } from 'node:crypto';
import type * as Pkcs11Js from 'pkcs11js';
import { readPrivateKeyInfo, readRsaPrivateKey, RSA_ENCRYPTION, rsaSpki } from '../src/algorithms/asn1/index.js';
import { oaepDecode, oaepDecodeExpectLength } from '../src/algorithms/rsa/oaep-decode.js';
import { pkcs1v15Decode, pkcs1v15DecodeExpectLength } from '../src/algorithms/rsa/pkcs1v15-decode.js';
import {
  MATERIAL_SPECS, WRAPPING_ALGORITHMS, WRAPPING_KEY_SPECS, type MaterialSpec, type SigningAlgorithm, type WrappingAlgorithm, type WrappingKeySpec,
} from '../src/algorithms/specs.js';
import type { CryptoBackend, KatOperations, MaterialHandle, RsaesKatParams, UnwrapRequest, WrappingKeyPair } from '../src/backends/crypto-backend.js';
import { bigIntToBytes, bytesToBigInt, concatBytes, zeroize } from '../src/bytes.js';
import { systemClock, type Clock } from '../src/clock.js';
import { ByokError, decryptMaterialFailed } from '../src/errors.js';
import { ExpiringCache } from '../src/backends/pure/key-cache.js';
import { Pkcs11Device, type Handle, type Pkcs11Lib } from './module.js';
import { Pkcs11KeyOperations } from './pkcs11-keys.js';

export interface Pkcs11BackendOptions {
  /** Path of the PKCS#11 module (.so). */
  readonly modulePath: string;
  /** Select the token by label (preferred) or by index in the slot list. */
  readonly tokenLabel?: string;
  readonly slotIndex?: number;
  /** User PIN: from configuration or the environment, never from argv. */
  readonly pin: string;
  /** Sessions in the pool (default 4). */
  readonly sessions?: number;
  /**
   * Opt-in: where the device lacks an OAEP hash (SoftHSM2: SHA-256) decrypt raw with
   * CKM_RSA_X_509 and decode in TypeScript. The material then passes through host memory.
   */
  readonly allowHostOaepDecode?: boolean;
  /** Mechanism code of AES key wrap with padding: 0x210A (SoftHSM2), 0x210B (PKCS#11 3.0 KWP). */
  readonly kwpMechanism?: number;
  /** Wrapping keys live this long after generation before the sweeper may destroy them (default 25 h). */
  readonly wrappingKeyLifetimeSeconds?: number;
  readonly clock?: Clock;
}

/** Which path an unwrap took (for the audit record). */
export type UnwrapPath = 'device-unwrap' | 'host-decode';

const BLOB_VERSION = 1;
const WRAPPING_LABEL_PREFIX = 'byok-wrapping-key/';
const MATERIAL_LABEL_PREFIX = 'byok-material/';
/** Stored reference: 1 ‖ CKA_ID(16); 2 ‖ CKA_ID(16) ‖ SPKI for private keys (the public key is not an attribute). */
const REF_VERSION = 1;
const REF_VERSION_WITH_SPKI = 2;
const FINGERPRINT_DOMAIN = 'byok/material-fingerprint/v1\0';

class Pkcs11MaterialHandle implements MaterialHandle {
  readonly backend = 'pkcs11' as const;
  constructor(
    readonly materialSpec: MaterialSpec,
    readonly object: Handle,
    /** Session objects are destroyed on release; persisted ones stay. */
    readonly sessionObject: boolean,
    readonly path: UnwrapPath | 'stored' | 'generated',
    /** Private keys: the DER SubjectPublicKeyInfo checked at import. */
    readonly publicKeySpki?: Uint8Array,
  ) {}
  get unwrapPath(): string {
    return this.path;
  }
  toJSON(): object {
    return { backend: this.backend, materialSpec: this.materialSpec, path: this.path };
  }
}

function asHandle(h: MaterialHandle): Pkcs11MaterialHandle {
  if (!(h instanceof Pkcs11MaterialHandle)) throw new ByokError('INTERNAL_ERROR', 'Handle from another backend.');
  return h;
}

function asSymmetric(h: MaterialHandle): Pkcs11MaterialHandle {
  const handle = asHandle(h);
  if (MATERIAL_SPECS[handle.materialSpec].kind !== 'symmetric') throw new ByokError('INVALID_KEY_USAGE');
  return handle;
}

export class Pkcs11Backend implements CryptoBackend {
  readonly id = 'pkcs11' as const;
  readonly device: Pkcs11Device;
  private readonly lib: Pkcs11Lib;
  private readonly p11: Pkcs11Js.PKCS11;
  private readonly mechanisms: Set<number>;
  private readonly oaepSha256: boolean;
  readonly verifiesMaterialLength: boolean;
  private readonly clock: Clock;
  private readonly lifetime: number;
  private readonly kwp: number;
  private readonly hostDecode: boolean;
  private readonly keys: Pkcs11KeyOperations;
  private lastSweep = 0;
  /** Wrapping-key object handles by CKA_ID, so an unwrap need not search the token each time. */
  private readonly keyHandles: ExpiringCache<Handle>;
  /** Path of the most recent unwrap, for the audit record. */
  lastUnwrapPath: UnwrapPath | undefined;

  constructor(options: Pkcs11BackendOptions) {
    this.device = new Pkcs11Device({
      modulePath: options.modulePath, pin: options.pin, sessions: options.sessions ?? 4,
      ...(options.tokenLabel !== undefined ? { tokenLabel: options.tokenLabel } : {}),
      ...(options.slotIndex !== undefined ? { slotIndex: options.slotIndex } : {}),
    });
    this.lib = this.device.lib;
    this.p11 = this.device.p11;
    this.mechanisms = this.device.mechanisms();
    this.clock = options.clock ?? systemClock;
    this.lifetime = options.wrappingKeyLifetimeSeconds ?? 25 * 3600;
    this.kwp = options.kwpMechanism ?? this.lib.CKM_AES_KEY_WRAP_PAD;
    this.hostDecode = options.allowHostOaepDecode ?? false;
    this.keys = new Pkcs11KeyOperations(this.p11, this.lib, (m) => this.has(m), this.kwp);
    this.keyHandles = new ExpiringCache<Handle>(1024, this.clock);
    this.oaepSha256 = this.probeOaepSha256();
    this.verifiesMaterialLength = this.probeValueLenReported();
  }

  /**
   * Does the device report CKA_VALUE_LEN of an unwrapped AES key? Unwrap a known 32-byte key
   * (AES key wrap with padding under a throw-away KEK) and read it back.
   */
  private probeValueLenReported(): boolean {
    if (!this.has(this.kwp)) return false;
    const l = this.lib;
    const session = this.p11.C_OpenSession(this.device.slot, l.CKF_SERIAL_SESSION);
    try {
      const kekValue = randomBytes(32);
      const kek = this.p11.C_CreateObject(session, [
        { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_AES }, { type: l.CKA_TOKEN, value: false },
        { type: l.CKA_VALUE, value: kekValue }, { type: l.CKA_WRAP, value: true }, { type: l.CKA_UNWRAP, value: true },
      ]);
      const probe = this.p11.C_CreateObject(session, [
        { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_AES }, { type: l.CKA_TOKEN, value: false },
        { type: l.CKA_VALUE, value: randomBytes(32) }, { type: l.CKA_EXTRACTABLE, value: true },
      ]);
      const wrapped = this.p11.C_WrapKey(session, { mechanism: this.kwp }, kek, probe, Buffer.alloc(64));
      const back = this.p11.C_UnwrapKey(session, { mechanism: this.kwp }, kek, wrapped, [
        { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_AES }, { type: l.CKA_TOKEN, value: false },
      ]);
      const [attr] = this.p11.C_GetAttributeValue(session, back, [{ type: l.CKA_VALUE_LEN }]);
      return Boolean(attr.value && attr.value.some((b) => b !== 0));
    } catch {
      return false;
    } finally {
      this.p11.C_CloseSession(session);
    }
  }

  // ---- capabilities ------------------------------------------------------------------------

  private has(mechanism: number): boolean {
    return this.mechanisms.has(mechanism);
  }

  /**
   * Whether CKM_RSA_PKCS_OAEP takes SHA-256 parameters: the mechanism list cannot say, so ask the
   * device with a throw-away public key (SoftHSM2 2.6.1 answers CKR_ARGUMENTS_BAD).
   */
  private probeOaepSha256(): boolean {
    if (!this.has(this.lib.CKM_RSA_PKCS_OAEP)) return false;
    // Public-key encryption needs no real key: any odd 2048-bit modulus will do for the probe.
    const modulus = Buffer.alloc(256, 0xff);
    const session = this.p11.C_OpenSession(this.device.slot, this.lib.CKF_SERIAL_SESSION);
    try {
      const obj = this.p11.C_CreateObject(session, [
        { type: this.lib.CKA_CLASS, value: this.lib.CKO_PUBLIC_KEY }, { type: this.lib.CKA_KEY_TYPE, value: this.lib.CKK_RSA },
        { type: this.lib.CKA_TOKEN, value: false }, { type: this.lib.CKA_ENCRYPT, value: true },
        { type: this.lib.CKA_MODULUS, value: modulus }, { type: this.lib.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
      ]);
      try {
        this.p11.C_EncryptInit(session, this.oaepMechanism('sha256'), obj);
        this.p11.C_Encrypt(session, Buffer.alloc(16), Buffer.alloc(512));
        return true;
      } catch {
        return false;
      }
    } finally {
      this.p11.C_CloseSession(session);
    }
  }

  private oaepMechanism(hash: 'sha1' | 'sha256', label?: Uint8Array): Pkcs11Js.Mechanism {
    const l = this.lib;
    const parameter: Pkcs11Js.RsaOAEP = {
      type: l.CK_PARAMS_RSA_OAEP,
      hashAlg: hash === 'sha1' ? l.CKM_SHA_1 : l.CKM_SHA256,
      mgf: hash === 'sha1' ? l.CKG_MGF1_SHA1 : l.CKG_MGF1_SHA256,
      source: 1, // CKZ_DATA_SPECIFIED
      ...(label && label.length ? { sourceData: Buffer.from(label) } : {}),
    };
    return { mechanism: l.CKM_RSA_PKCS_OAEP, parameter };
  }

  /** The path an unwrap would take, or why it cannot run. */
  private plan(algorithm: WrappingAlgorithm, keySpec: WrappingKeySpec, materialSpec: MaterialSpec): UnwrapPath | string {
    const alg = WRAPPING_ALGORITHMS[algorithm];
    if (alg.family !== WRAPPING_KEY_SPECS[keySpec].family) return `${algorithm} cannot be used with ${keySpec}.`;
    if (alg.family === 'SM2') return 'This PKCS#11 device has no SM2 mechanism (SM2_ENCRYPT needs a vendor mechanism).';
    const specReason = this.keySpecUnsupportedReason(materialSpec);
    if (specReason !== undefined) return specReason;
    // Private keys arrive under a temporary AES key (the engine unwraps that one here).
    if (MATERIAL_SPECS[materialSpec].kind === 'private-key') return `A ${materialSpec} key is not wrapped directly.`;
    if (!this.has(this.lib.CKM_RSA_PKCS_KEY_PAIR_GEN) || !this.has(this.lib.CKM_AES_GCM) || !this.has(this.lib.CKM_AES_CMAC)) {
      return 'The device lacks RSA key generation, AES-GCM or AES-CMAC.';
    }
    const padding = alg.rsaPadding!;
    const native = padding.kind === 'pkcs1v15'
      ? this.has(this.lib.CKM_RSA_PKCS)
      : this.has(this.lib.CKM_RSA_PKCS_OAEP) && (padding.hash === 'sha1' || this.oaepSha256);
    if (native) return 'device-unwrap';
    if (this.hostDecode && this.has(this.lib.CKM_RSA_X_509)) return 'host-decode';
    return `The device cannot unwrap ${algorithm} (set allowHostOaepDecode to decode it in TypeScript).`;
  }

  keySpecUnsupportedReason(materialSpec: MaterialSpec): string | undefined {
    if (materialSpec === 'SM4_128') return 'This PKCS#11 device has no SM4 mechanism.';
    return this.keys.unsupportedReason(materialSpec);
  }

  supports(algorithm: WrappingAlgorithm, keySpec: WrappingKeySpec, materialSpec: MaterialSpec): boolean {
    const p = this.plan(algorithm, keySpec, materialSpec);
    return p === 'device-unwrap' || p === 'host-decode';
  }

  unsupportedReason(algorithm: WrappingAlgorithm, keySpec: WrappingKeySpec, materialSpec: MaterialSpec): string | undefined {
    return this.supports(algorithm, keySpec, materialSpec) ? undefined : this.plan(algorithm, keySpec, materialSpec);
  }

  // ---- wrapping keys -----------------------------------------------------------------------

  async generateWrappingKeyPair(keySpec: WrappingKeySpec): Promise<WrappingKeyPair> {
    const info = WRAPPING_KEY_SPECS[keySpec];
    if (info.family !== 'RSA') throw new ByokError('ALGORITHM_UNSUPPORTED', 'This PKCS#11 device has no SM2 mechanism.');
    await this.sweepExpiredWrappingKeys();
    const l = this.lib;
    const id = randomBytes(16);
    const expiresAt = Math.floor(this.clock.now() / 1000) + this.lifetime;
    return this.device.withSession(async (session) => {
      const pair = await this.p11.C_GenerateKeyPairAsync(session, { mechanism: l.CKM_RSA_PKCS_KEY_PAIR_GEN }, [
        { type: l.CKA_TOKEN, value: false }, { type: l.CKA_MODULUS_BITS, value: info.bits },
        { type: l.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) }, { type: l.CKA_ENCRYPT, value: true }, { type: l.CKA_WRAP, value: true },
      ], [
        { type: l.CKA_TOKEN, value: true }, { type: l.CKA_PRIVATE, value: true }, { type: l.CKA_ID, value: id },
        { type: l.CKA_LABEL, value: `${WRAPPING_LABEL_PREFIX}${expiresAt}` },
        { type: l.CKA_SENSITIVE, value: true }, { type: l.CKA_EXTRACTABLE, value: false },
        { type: l.CKA_UNWRAP, value: true },
        // Raw decryption only for the opt-in host-decode mode; otherwise unwrap is the only use.
        { type: l.CKA_DECRYPT, value: this.hostDecode }, { type: l.CKA_SIGN, value: false },
      ]);
      try {
        const [modulus, exponent] = this.p11.C_GetAttributeValue(session, pair.publicKey, [{ type: l.CKA_MODULUS }, { type: l.CKA_PUBLIC_EXPONENT }]);
        const spki = rsaSpki(bytesToBigInt(modulus.value!), bytesToBigInt(exponent.value!));
        return { keySpec, publicKeySpki: spki, privateKeyBlob: concatBytes(Uint8Array.of(BLOB_VERSION), id) };
      } finally {
        this.p11.C_DestroyObject(session, pair.publicKey);
      }
    });
  }

  private findObjects(session: Handle, template: Pkcs11Js.Template, max = 16): Handle[] {
    this.p11.C_FindObjectsInit(session, template);
    try {
      return this.p11.C_FindObjects(session, max);
    } finally {
      this.p11.C_FindObjectsFinal(session);
    }
  }

  private findWrappingKey(session: Handle, blob: Uint8Array, cacheKey?: string, cacheUntil?: number): Handle {
    if (blob.length !== 17 || blob[0] !== BLOB_VERSION) throw new ByokError('INTERNAL_ERROR', 'Wrapping key reference is malformed.');
    const cached = cacheKey !== undefined ? this.keyHandles.get(cacheKey) : undefined;
    if (cached) return cached;
    const [key] = this.findObjects(session, [
      { type: this.lib.CKA_CLASS, value: this.lib.CKO_PRIVATE_KEY }, { type: this.lib.CKA_ID, value: Buffer.from(blob.subarray(1)) },
    ], 1);
    // Swept (expired) or made on another device: the token cannot be used here.
    if (!key) throw new ByokError('IMPORT_TOKEN_EXPIRED', 'The wrapping key of this import token is no longer in the device.');
    if (cacheKey !== undefined && cacheUntil !== undefined) this.keyHandles.set(cacheKey, key, cacheUntil);
    return key;
  }

  /** Destroy wrapping keys past their lifetime. At most once a minute: it lists every private key. */
  async sweepExpiredWrappingKeys(force = false): Promise<number> {
    const now = Math.floor(this.clock.now() / 1000);
    if (!force && now - this.lastSweep < 60) return 0;
    this.lastSweep = now;
    return this.device.withSession((session) => {
      let destroyed = 0;
      this.p11.C_FindObjectsInit(session, [{ type: this.lib.CKA_CLASS, value: this.lib.CKO_PRIVATE_KEY }, { type: this.lib.CKA_TOKEN, value: true }]);
      const found: Handle[] = [];
      try {
        for (let batch = this.p11.C_FindObjects(session, 256); batch.length; batch = this.p11.C_FindObjects(session, 256)) found.push(...batch);
      } finally {
        this.p11.C_FindObjectsFinal(session);
      }
      for (const obj of found) {
        const [label] = this.p11.C_GetAttributeValue(session, obj, [{ type: this.lib.CKA_LABEL }]);
        const text = label.value?.toString('utf8') ?? '';
        if (!text.startsWith(WRAPPING_LABEL_PREFIX)) continue;
        const expiresAt = Number(text.slice(WRAPPING_LABEL_PREFIX.length));
        if (Number.isFinite(expiresAt) && expiresAt <= now) {
          this.p11.C_DestroyObject(session, obj);
          destroyed++;
        }
      }
      if (destroyed) this.keyHandles.clear();
      return destroyed;
    });
  }

  // ---- unwrap ------------------------------------------------------------------------------

  /** The template of what an unwrap makes: material of the spec, or a temporary key-unwrapping key. */
  private unwrapTemplate(spec: MaterialSpec, temporaryKey: boolean | undefined): Pkcs11Js.Template {
    const l = this.lib;
    if (MATERIAL_SPECS[spec].kind === 'hmac') return this.keys.hmacTemplate();
    if (!temporaryKey) return this.materialTemplate();
    return [
      { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_AES },
      { type: l.CKA_TOKEN, value: false }, { type: l.CKA_PRIVATE, value: true },
      { type: l.CKA_SENSITIVE, value: true }, { type: l.CKA_EXTRACTABLE, value: false },
      { type: l.CKA_UNWRAP, value: true }, { type: l.CKA_WRAP, value: false },
      { type: l.CKA_ENCRYPT, value: false }, { type: l.CKA_DECRYPT, value: false }, { type: l.CKA_SIGN, value: false },
    ];
  }

  private materialTemplate(extra: Pkcs11Js.Template = []): Pkcs11Js.Template {
    const l = this.lib;
    // No CKA_VALUE_LEN: SoftHSM2 refuses it in unwrap templates (CKR_ATTRIBUTE_READ_ONLY).
    return [
      { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_AES },
      { type: l.CKA_TOKEN, value: false }, { type: l.CKA_PRIVATE, value: true },
      { type: l.CKA_SENSITIVE, value: true }, { type: l.CKA_EXTRACTABLE, value: false },
      { type: l.CKA_ENCRYPT, value: true }, { type: l.CKA_DECRYPT, value: true },
      // CMAC for the material fingerprint.
      { type: l.CKA_SIGN, value: true }, { type: l.CKA_VERIFY, value: false },
      { type: l.CKA_WRAP, value: false }, { type: l.CKA_UNWRAP, value: false },
      ...extra,
    ];
  }

  /**
   * Where the device reports CKA_VALUE_LEN, check it; SoftHSM2 2.6.1 reports 0 for unwrapped keys
   * (a measured device gap: the length cannot be verified in that device).
   */
  private checkMaterialLength(session: Handle, object: Handle, spec: MaterialSpec): void {
    const [attr] = this.p11.C_GetAttributeValue(session, object, [{ type: this.lib.CKA_VALUE_LEN }]);
    const len = attr.value && attr.value.length ? Number(attr.value.readBigUInt64LE(0) & 0xffffffffn) : 0;
    if (len !== 0 && len !== MATERIAL_SPECS[spec].length) throw decryptMaterialFailed();
  }

  async unwrapMaterial(request: UnwrapRequest): Promise<MaterialHandle> {
    const path = this.plan(request.algorithm, request.keySpec, request.materialSpec);
    if (path !== 'device-unwrap' && path !== 'host-decode') throw new ByokError('ALGORITHM_UNSUPPORTED', path);
    const padding = WRAPPING_ALGORITHMS[request.algorithm].rsaPadding!;
    const k = WRAPPING_KEY_SPECS[request.keySpec].bits / 8;
    // Public check first, as RFC 8017 §7.1.2 step 1 does.
    if (request.ciphertext.length !== k) throw decryptMaterialFailed();
    return this.device.withSession(async (session) => {
      const key = this.findWrappingKey(session, request.privateKeyBlob, request.cacheKey, request.cacheUntil);
      let object: Handle | undefined;
      try {
        if (path === 'device-unwrap') {
          const mechanism = padding.kind === 'pkcs1v15' ? { mechanism: this.lib.CKM_RSA_PKCS } : this.oaepMechanism(padding.hash);
          object = await this.p11.C_UnwrapKeyAsync(session, mechanism, key, Buffer.from(request.ciphertext), this.unwrapTemplate(request.materialSpec, request.temporaryKey));
          if (this.verifiesMaterialLength) this.checkMaterialLength(session, object, request.materialSpec);
        } else {
          object = await this.hostDecodeUnwrap(session, key, padding, request.ciphertext, k, request.materialSpec, request.temporaryKey);
        }
        this.lastUnwrapPath = path;
        return new Pkcs11MaterialHandle(request.materialSpec, object, true, path);
      } catch (e) {
        if (object) this.p11.C_DestroyObject(session, object);
        if (e instanceof ByokError && e.code !== 'DECRYPT_MATERIAL_FAILED') throw e;
        // Every device error on this path is the one uniform error: a CKR code could be an oracle.
        throw decryptMaterialFailed();
      }
    });
  }

  /** Opt-in: raw RSA in the device, EME decoding here with the pure backend's decoders. */
  private async hostDecodeUnwrap(session: Handle, key: Handle, padding: NonNullable<(typeof WRAPPING_ALGORITHMS)[WrappingAlgorithm]['rsaPadding']>, ciphertext: Uint8Array, k: number, spec: MaterialSpec, temporaryKey?: boolean): Promise<Handle> {
    this.p11.C_DecryptInit(session, { mechanism: this.lib.CKM_RSA_X_509 }, key);
    const raw = await this.p11.C_DecryptAsync(session, Buffer.from(ciphertext), Buffer.alloc(k));
    const em = new Uint8Array(k);
    em.set(raw, k - raw.length);
    raw.fill(0);
    const length = MATERIAL_SPECS[spec].length;
    let material: Uint8Array | undefined;
    try {
      material = padding.kind === 'pkcs1v15'
        ? pkcs1v15DecodeExpectLength(em, k, length)
        : oaepDecodeExpectLength(em, k, { hash: padding.hash, mgf1Hash: padding.hash }, length);
      const value = Buffer.from(material);
      try {
        return this.p11.C_CreateObject(session, [...this.unwrapTemplate(spec, temporaryKey), { type: this.lib.CKA_VALUE, value }]);
      } finally {
        value.fill(0);
      }
    } finally {
      zeroize(em, material);
    }
  }

  async unwrapWithTemporaryKey(temporaryKey: MaterialHandle, wrapped: Uint8Array, materialSpec: MaterialSpec): Promise<MaterialHandle> {
    const kek = asHandle(temporaryKey);
    const reason = this.keySpecUnsupportedReason(materialSpec);
    if (reason !== undefined) throw new ByokError('ALGORITHM_UNSUPPORTED', reason);
    return this.device.withSession(async (session) => {
      if (MATERIAL_SPECS[materialSpec].kind === 'private-key') {
        const { object, spki } = await this.keys.unwrapPrivateKey(session, kek.object, wrapped, materialSpec);
        return new Pkcs11MaterialHandle(materialSpec, object, true, 'device-unwrap', spki);
      }
      let object: Handle | undefined;
      try {
        object = await this.p11.C_UnwrapKeyAsync(session, { mechanism: this.kwp }, kek.object, Buffer.from(wrapped), this.unwrapTemplate(materialSpec, false));
        if (this.verifiesMaterialLength) this.checkMaterialLength(session, object, materialSpec);
        return new Pkcs11MaterialHandle(materialSpec, object, true, 'device-unwrap');
      } catch {
        if (object) this.p11.C_DestroyObject(session, object);
        throw decryptMaterialFailed();
      }
    });
  }

  async publicKey(handle: MaterialHandle): Promise<Uint8Array> {
    const spki = asHandle(handle).publicKeySpki;
    if (!spki) throw new ByokError('INVALID_KEY_USAGE');
    return spki;
  }

  async sign(handle: MaterialHandle, algorithm: SigningAlgorithm, message: Uint8Array): Promise<Uint8Array> {
    const h = asHandle(handle);
    if (!h.publicKeySpki) throw new ByokError('INVALID_KEY_USAGE');
    return this.device.withSession((session) => this.keys.sign(session, h.object, algorithm, message));
  }

  async generateMac(handle: MaterialHandle, message: Uint8Array): Promise<Uint8Array> {
    const h = asHandle(handle);
    return this.device.withSession((session) => this.keys.hmac(session, h.object, h.materialSpec, message));
  }

  async generateMaterial(materialSpec: MaterialSpec): Promise<MaterialHandle> {
    const info = MATERIAL_SPECS[materialSpec];
    const reason = this.keySpecUnsupportedReason(materialSpec) ?? (info.kind === 'private-key' ? 'Keys of origin KMS with a private key are generated by the pure backend only.' : undefined);
    if (reason !== undefined) throw new ByokError('ALGORITHM_UNSUPPORTED', reason);
    return this.device.withSession((session) => {
      const object = info.kind === 'hmac'
        ? this.p11.C_GenerateKey(session, { mechanism: this.lib.CKM_GENERIC_SECRET_KEY_GEN }, [...this.keys.hmacTemplate(), { type: this.lib.CKA_VALUE_LEN, value: info.length }])
        : this.p11.C_GenerateKey(session, { mechanism: this.lib.CKM_AES_KEY_GEN }, this.materialTemplate([{ type: this.lib.CKA_VALUE_LEN, value: 32 }]));
      return new Pkcs11MaterialHandle(materialSpec, object, true, 'generated');
    });
  }

  // ---- fingerprint, persistence, use -------------------------------------------------------

  async fingerprintMaterial(handle: MaterialHandle, keyId: string): Promise<Uint8Array> {
    const h = asHandle(handle);
    const message = Buffer.from(`${FINGERPRINT_DOMAIN}${keyId}\0${h.materialSpec}`, 'utf8');
    return this.device.withSession(async (session) => {
      // The material as a PRF key: HMAC keys are their own PRF, AES keys use CMAC.
      if (MATERIAL_SPECS[h.materialSpec].kind === 'hmac') return this.keys.hmac(session, h.object, h.materialSpec, message);
      this.p11.C_SignInit(session, { mechanism: this.lib.CKM_AES_CMAC }, h.object);
      return new Uint8Array(await this.p11.C_SignAsync(session, message, Buffer.alloc(16)));
    });
  }

  private materialRefId(stored: Uint8Array): Buffer {
    const ok = (stored.length === 17 && stored[0] === REF_VERSION) || (stored.length > 17 && stored[0] === REF_VERSION_WITH_SPKI);
    if (!ok) throw new ByokError('INTERNAL_ERROR', 'Stored material reference is malformed.');
    return Buffer.from(stored.subarray(1, 17));
  }

  async persistMaterial(handle: MaterialHandle, keyId: string): Promise<Uint8Array> {
    const h = asHandle(handle);
    const id = randomBytes(16);
    await this.device.withSession((session) => {
      this.p11.C_CopyObject(session, h.object, [
        { type: this.lib.CKA_TOKEN, value: true }, { type: this.lib.CKA_ID, value: id },
        { type: this.lib.CKA_LABEL, value: `${MATERIAL_LABEL_PREFIX}${keyId}` },
      ]);
    });
    return h.publicKeySpki ? concatBytes(Uint8Array.of(REF_VERSION_WITH_SPKI), id, h.publicKeySpki) : concatBytes(Uint8Array.of(REF_VERSION), id);
  }

  async loadMaterial(stored: Uint8Array, materialSpec: MaterialSpec, _keyId: string): Promise<MaterialHandle> {
    const id = this.materialRefId(stored);
    return this.device.withSession((session) => {
      const [object] = this.findObjects(session, [{ type: this.lib.CKA_ID, value: id }], 1);
      if (!object) throw new ByokError('INTERNAL_ERROR', 'Stored key material is missing from the device.');
      const spki = stored[0] === REF_VERSION_WITH_SPKI ? stored.slice(17) : undefined;
      return new Pkcs11MaterialHandle(materialSpec, object, false, 'stored', spki);
    });
  }

  async destroyPersistedMaterial(stored: Uint8Array, _keyId: string): Promise<void> {
    const id = this.materialRefId(stored);
    await this.device.withSession((session) => {
      for (const object of this.findObjects(session, [{ type: this.lib.CKA_ID, value: id }])) {
        this.p11.C_DestroyObject(session, object);
      }
    });
  }

  private gcm(iv: Uint8Array, aad?: Uint8Array): Pkcs11Js.Mechanism {
    const parameter: Pkcs11Js.GcmParams = { type: this.lib.CK_PARAMS_AES_GCM, iv: Buffer.from(iv), ivBits: 96, tagBits: 128, ...(aad && aad.length ? { aad: Buffer.from(aad) } : {}) };
    return { mechanism: this.lib.CKM_AES_GCM, parameter };
  }

  async encrypt(handle: MaterialHandle, plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    const h = asSymmetric(handle);
    const iv = new Uint8Array(randomBytes(12));
    return this.device.withSession(async (session) => {
      this.p11.C_EncryptInit(session, this.gcm(iv, aad), h.object);
      const out = await this.p11.C_EncryptAsync(session, Buffer.from(plaintext), Buffer.alloc(plaintext.length + 16));
      return concatBytes(iv, out);
    });
  }

  async decrypt(handle: MaterialHandle, ciphertext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    const h = asSymmetric(handle);
    if (ciphertext.length < 28) throw new ByokError('CIPHERTEXT_INVALID');
    return this.device.withSession(async (session) => {
      try {
        this.p11.C_DecryptInit(session, this.gcm(ciphertext.subarray(0, 12), aad), h.object);
        return new Uint8Array(await this.p11.C_DecryptAsync(session, Buffer.from(ciphertext.subarray(12)), Buffer.alloc(ciphertext.length)));
      } catch {
        throw new ByokError('CIPHERTEXT_INVALID');
      }
    });
  }

  release(handle: MaterialHandle): void {
    const h = asHandle(handle);
    if (!h.sessionObject) return;
    void this.device.withSession((session) => {
      try {
        this.p11.C_DestroyObject(session, h.object);
      } catch { /* already gone */ }
    });
  }

  // ---- known-answer operations: the vectors' keys imported as session objects ----------------

  readonly kat: KatOperations = {
    rsaesDecrypt: (pkcs8, params, ciphertext) => this.katRsaesDecrypt(pkcs8, params, ciphertext),
    aesKwpUnwrap: (kek, wrapped) => this.katKwpUnwrap(kek, wrapped),
    sm2Decrypt: async () => {
      throw new ByokError('ALGORITHM_UNSUPPORTED', 'This PKCS#11 device has no SM2 mechanism.');
    },
  };

  private async katRsaesDecrypt(pkcs8: Uint8Array, params: RsaesKatParams, ciphertext: Uint8Array): Promise<Uint8Array> {
    const l = this.lib;
    let mechanism: Pkcs11Js.Mechanism;
    let hostDecode = false;
    if (params.padding === 'pkcs1v15') {
      mechanism = { mechanism: l.CKM_RSA_PKCS };
    } else {
      const hash = params.hash.toLowerCase().replace('-', '');
      const mgf = params.mgf1Hash.toLowerCase().replace('-', '');
      // The KMS never uses OAEP labels; SoftHSM2 accepts one at C_DecryptInit but then fails
      // every decryption, so labelled cases are declared unsupported on the device path.
      const deviceCan = hash === mgf && params.label.length === 0 && (hash === 'sha1' || (hash === 'sha256' && this.oaepSha256));
      if (deviceCan) mechanism = this.oaepMechanism(hash as 'sha1' | 'sha256', params.label);
      else if (this.hostDecode) {
        mechanism = { mechanism: l.CKM_RSA_X_509 };
        hostDecode = true;
      } else {
        throw new ByokError('ALGORITHM_UNSUPPORTED', `device OAEP takes ${this.oaepSha256 ? 'SHA-1 and SHA-256' : 'SHA-1'} with the same MGF1 hash and an empty label only`);
      }
    }
    const rsa = parseRsaPkcs8(pkcs8);
    const k = rsa.n.length;
    return this.device.withSession(async (session) => {
      const key = this.p11.C_CreateObject(session, [
        { type: l.CKA_CLASS, value: l.CKO_PRIVATE_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_RSA }, { type: l.CKA_TOKEN, value: false },
        { type: l.CKA_SENSITIVE, value: true }, { type: l.CKA_DECRYPT, value: true },
        { type: l.CKA_MODULUS, value: rsa.n }, { type: l.CKA_PUBLIC_EXPONENT, value: rsa.e }, { type: l.CKA_PRIVATE_EXPONENT, value: rsa.d },
        { type: l.CKA_PRIME_1, value: rsa.p }, { type: l.CKA_PRIME_2, value: rsa.q }, { type: l.CKA_EXPONENT_1, value: rsa.dp },
        { type: l.CKA_EXPONENT_2, value: rsa.dq }, { type: l.CKA_COEFFICIENT, value: rsa.qi },
      ]);
      try {
        try {
          this.p11.C_DecryptInit(session, mechanism, key);
        } catch {
          // The device refused the parameters themselves (e.g. a label): unsupported, not a failure.
          throw new ByokError('ALGORITHM_UNSUPPORTED', 'the device refused these OAEP parameters');
        }
        let out: Buffer;
        try {
          out = this.p11.C_Decrypt(session, Buffer.from(ciphertext), Buffer.alloc(k));
        } catch {
          throw decryptMaterialFailed();
        }
        if (!hostDecode) return new Uint8Array(out);
        if (ciphertext.length !== k) throw decryptMaterialFailed();
        const em = new Uint8Array(k);
        em.set(out, k - out.length);
        return params.padding === 'oaep' ? oaepDecode(em, k, { hash: params.hash, mgf1Hash: params.mgf1Hash, label: params.label }) : pkcs1v15Decode(em, k);
      } finally {
        this.p11.C_DestroyObject(session, key);
      }
    });
  }

  private async katKwpUnwrap(kek: Uint8Array, wrapped: Uint8Array): Promise<Uint8Array> {
    const l = this.lib;
    if (!this.has(this.kwp)) throw new ByokError('ALGORITHM_UNSUPPORTED', 'the device has no AES key wrap with padding');
    if (![16, 24, 32].includes(kek.length)) throw decryptMaterialFailed();
    return this.device.withSession(async (session) => {
      const kekObj = this.p11.C_CreateObject(session, [
        { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_AES }, { type: l.CKA_TOKEN, value: false },
        { type: l.CKA_VALUE, value: Buffer.from(kek) }, { type: l.CKA_UNWRAP, value: true },
      ]);
      let out: Handle | undefined;
      try {
        try {
          // Test vectors only: the unwrapped value is made readable so it can be compared.
          out = this.p11.C_UnwrapKey(session, { mechanism: this.kwp }, kekObj, Buffer.from(wrapped), [
            { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_GENERIC_SECRET }, { type: l.CKA_TOKEN, value: false },
            { type: l.CKA_SENSITIVE, value: false }, { type: l.CKA_EXTRACTABLE, value: true },
          ]);
        } catch {
          throw decryptMaterialFailed();
        }
        const [value] = this.p11.C_GetAttributeValue(session, out, [{ type: l.CKA_VALUE }]);
        return new Uint8Array(value.value ?? []);
      } finally {
        if (out) this.p11.C_DestroyObject(session, out);
        this.p11.C_DestroyObject(session, kekObj);
      }
    });
  }

  async close(): Promise<void> {
    this.device.close();
  }
}

/**
 * RSA components from PKCS#8 (RFC 5208 / RFC 8017 A.1.2) as CKA_* values, read with the asn1
 * readers rather than node:crypto: SoftHSM2 and Node share the process's OpenSSL error queue
 * here, and a device failure left on it makes the next node:crypto key parse throw.
 */
function parseRsaPkcs8(der: Uint8Array): Record<'n' | 'e' | 'd' | 'p' | 'q' | 'dp' | 'dq' | 'qi', Buffer> {
  const info = readPrivateKeyInfo(der);
  const key = info?.algorithm === RSA_ENCRYPTION ? readRsaPrivateKey(info.privateKey) : undefined;
  if (!key) throw decryptMaterialFailed();
  const b = (v: bigint) => Buffer.from(bigIntToBytes(v));
  return { n: b(key.n), e: b(key.e), d: b(key.d), p: b(key.p), q: b(key.q), dp: b(key.dp), dq: b(key.dq), qi: b(key.qi) };
}
