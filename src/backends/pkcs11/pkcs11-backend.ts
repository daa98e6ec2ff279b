/**
 * The PKCS#11 backend: the same CryptoBackend as the pure one, on a device through pkcs11js.
 * BackendBase does the shared checks; this class composes the device's jobs:
 * capabilities.ts (what the device can do), wrapping-keys.ts (in-device wrapping keys and their
 * sweeper), unwrap.ts (C_UnwrapKey, the opt-in host decode), private-keys.ts (imported private
 * and HMAC keys), persistence.ts (token objects), templates.ts (what is asked of the device).
 * Material lives in sensitive, non-extractable objects: fingerprinted with CKM_AES_CMAC (or the
 * key's HMAC) and used with CKM_AES_GCM in the device. What the device cannot do is refused
 * with ALGORITHM_UNSUPPORTED, with the reason.
 */
import { createHash, randomBytes } from 'node:crypto';
import type * as Pkcs11Js from 'pkcs11js';
import { MATERIAL_SPECS, type MaterialSpec, type MessageType, type SigningAlgorithm, type WrappingAlgorithm, type WrappingKeySpec } from '../../algorithms/specs.js';
import { concatBytes } from '../../bytes.js';
import { systemClock } from '../../clock.js';
import { ByokError } from '../../errors.js';
import { BackendBase, GCM_IV_LENGTH, GCM_TAG_LENGTH } from '../backend-base.js';
import type { CapabilityReport, MaterialHandle, UnwrapRequest, WrappingKeyPair } from '../crypto-backend.js';
import { pkcs11CapabilityReport } from './capability-report.js';
import type { Pkcs11Capabilities } from './capabilities.js';
import { fromPkcs11Error } from './ckr.js';
import type { Pkcs11Device } from './device.js';
import { Pkcs11MaterialHandle } from './handle.js';
import { openPkcs11Device, type Pkcs11BackendOptions } from './options.js';
import { Pkcs11Persistence } from './persistence.js';
import type { Pkcs11Lib } from './pkcs11js.js';
import { Pkcs11KeyOperations } from './private-keys.js';
import { checkHonoured } from './readback.js';
import { gcmMechanism, hmacMechanism, hmacTemplate, materialTemplate } from './templates.js';
import { Pkcs11Unwrapper } from './unwrap.js';
import { unwrapTemplateSupport, type UnwrapTemplateStatus, type UnwrapTemplateSupport } from './unwrap-template-check.js';
import { checkNamespace, Pkcs11WrappingKeys } from './wrapping-keys.js';

/** The engine's default import token lifetime. */
const DEFAULT_TOKEN_LIFETIME_SECONDS = 24 * 3600;
/** A wrapping key outlives its tokens by this: up to an hour in a pre-generation pool, and an hour of slack. */
const WRAPPING_KEY_SLACK_SECONDS = 2 * 3600;
const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

/** The CryptoBackend on a PKCS#11 device (pkcs11js): wrapping keys, unwrapped and stored material stay device objects (CKA_SENSITIVE, not extractable) unless the opt-in host OAEP decode is on. */
export class Pkcs11Backend extends BackendBase<Pkcs11MaterialHandle> {
  readonly id = 'pkcs11' as const;
  readonly verifiesMaterialLength: boolean;
  private readonly lib: Pkcs11Lib;
  private readonly p11: Pkcs11Js.PKCS11;
  private readonly wrappingKeys: Pkcs11WrappingKeys;
  private readonly keys: Pkcs11KeyOperations;
  private readonly unwrapper: Pkcs11Unwrapper;
  private readonly persistence: Pkcs11Persistence;
  private readonly keepWrappingKeysAfterImport: boolean;
  /** Handles released already (release is idempotent; a session's count must drop once). */
  private readonly released = new WeakSet<Pkcs11MaterialHandle>();

  /** Whether the device enforces the wrapping keys' CKA_UNWRAP_TEMPLATE (checked at start-up). */
  readonly unwrapTemplate: UnwrapTemplateStatus;

  private constructor(readonly device: Pkcs11Device, private readonly capabilities: Pkcs11Capabilities, options: Pkcs11BackendOptions, unwrapTemplate: UnwrapTemplateSupport) {
    super();
    this.lib = device.lib;
    this.p11 = device.p11;
    this.verifiesMaterialLength = capabilities.reportsValueLength;
    this.unwrapTemplate = unwrapTemplate.status;
    this.keepWrappingKeysAfterImport = options.keepWrappingKeysAfterImport ?? false;
    this.wrappingKeys = new Pkcs11WrappingKeys(device, capabilities, options.clock ?? systemClock,
      options.wrappingKeyLifetimeSeconds ?? (options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS) + WRAPPING_KEY_SLACK_SECONDS,
      options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS, unwrapTemplate.arrays, options.namespace);
    this.keys = new Pkcs11KeyOperations(device, capabilities);
    this.unwrapper = new Pkcs11Unwrapper(device, capabilities, this.wrappingKeys, this.keys);
    this.persistence = new Pkcs11Persistence(device, capabilities.notCopyableCopies);
  }

  /** Load pkcs11js and the module, log in, probe the device, check its unwrap-template enforcement. */
  static async open(options: Pkcs11BackendOptions): Promise<Pkcs11Backend> {
    checkNamespace(options.namespace);
    const { device, capabilities } = await openPkcs11Device(options);
    let unwrapTemplate: UnwrapTemplateSupport;
    try {
      unwrapTemplate = await unwrapTemplateSupport(device, options.unwrapTemplatePolicy ?? 'required');
    } catch (e) {
      device.close();
      throw fromPkcs11Error(device.lib, e, 'Checking that the device enforces CKA_UNWRAP_TEMPLATE');
    }
    return new Pkcs11Backend(device, capabilities, options, unwrapTemplate);
  }

  protected override owns(handle: MaterialHandle): handle is Pkcs11MaterialHandle {
    return handle instanceof Pkcs11MaterialHandle;
  }

  protected override materialUnsupportedReason(materialSpec: MaterialSpec): string | undefined {
    return this.capabilities.materialUnsupportedReason(materialSpec);
  }

  protected override wrappingUnsupportedReason(algorithm: WrappingAlgorithm, keySpec: WrappingKeySpec): string | undefined {
    const plan = this.capabilities.unwrapPlan(algorithm, keySpec);
    return 'reason' in plan ? plan.reason : undefined;
  }

  protected override temporaryKeyUnsupportedReason(): string | undefined {
    return this.capabilities.temporaryKeyUnsupportedReason();
  }

  // ---- wrapping keys ---------------------------------------------------------------------------

  /** A wrapping key pair made on the device; the private key stays there, the token carries its reference. */
  generateWrappingKeyPair(keySpec: WrappingKeySpec): Promise<WrappingKeyPair> {
    return this.wrappingKeys.generate(keySpec);
  }

  /**
   * Destroy the device's wrapping key of a token blob now: its pool dropped it, or its import
   * succeeded — then a PIN holder can no longer unwrap the captured ciphertext again with it
   * (unless `keepWrappingKeysAfterImport`: the token may import the same material again until
   * it expires, and the sweep destroys the key).
   */
  async discardWrappingKey(privateKeyBlob: Uint8Array, why: 'imported' | 'unused'): Promise<void> {
    if (why === 'imported' && this.keepWrappingKeysAfterImport) return;
    await this.wrappingKeys.discard(privateKeyBlob);
  }

  /** Destroy wrapping keys past their lifetime (at most once a minute unless forced; also on a timer). */
  sweepExpiredWrappingKeys(force = false): Promise<number> {
    return this.wrappingKeys.sweepExpired(force);
  }

  // ---- unwrap ----------------------------------------------------------------------------------

  protected override onUnwrapMaterial(request: UnwrapRequest): Promise<Pkcs11MaterialHandle> {
    return this.unwrapper.unwrapMaterial(request);
  }

  protected override onUnwrapWithTemporaryKey(temporaryKey: Pkcs11MaterialHandle, wrapped: Uint8Array, materialSpec: MaterialSpec): Promise<Pkcs11MaterialHandle> {
    return this.unwrapper.unwrapWithTemporaryKey(temporaryKey, wrapped, materialSpec);
  }

  // ---- use -------------------------------------------------------------------------------------

  protected override onSign(handle: Pkcs11MaterialHandle, algorithm: SigningAlgorithm, message: Uint8Array, messageType: MessageType): Promise<Uint8Array> {
    return this.device.withSession((session) => this.keys.sign(session, handle.object, algorithm, message, messageType), 'Signing');
  }

  protected override onGenerateMac(handle: Pkcs11MaterialHandle, message: Uint8Array): Promise<Uint8Array> {
    return this.device.withSession((session) => this.keys.hmac(session, handle.object, handle.materialSpec, message), 'An HMAC');
  }

  protected override async onGenerateMaterial(materialSpec: MaterialSpec): Promise<Pkcs11MaterialHandle> {
    const info = MATERIAL_SPECS[materialSpec];
    if (info.kind === 'private-key') throw new ByokError('ALGORITHM_UNSUPPORTED', 'Keys of origin KMS with a private key are generated by the pure backend only.');
    const l = this.lib;
    const caps = this.capabilities;
    const template = info.kind === 'hmac'
      ? hmacTemplate(l, [...caps.allowed([hmacMechanism(l, materialSpec)!]), { type: l.CKA_VALUE_LEN, value: info.length }])
      : materialTemplate(l, [...caps.allowed(caps.materialMechanisms()), { type: l.CKA_VALUE_LEN, value: 32 }]);
    return this.device.withSession((session) => {
      const object = this.p11.C_GenerateKey(session, { mechanism: info.kind === 'hmac' ? l.CKM_GENERIC_SECRET_KEY_GEN : l.CKM_AES_KEY_GEN }, template);
      checkHonoured(this.p11, l, session, object, template, `generated ${materialSpec}`);
      return new Pkcs11MaterialHandle(materialSpec, object, true, 'generated', undefined, false, this.device.own(session));
    }, 'Generating key material');
  }

  // The material as a PRF key: HMAC keys are their own PRF, AES keys use CMAC; where the device
  // has no CMAC, AES-ECB of the message's SHA-256 (two blocks: one AES block is a PRF too).
  protected override onFingerprint(handle: Pkcs11MaterialHandle, message: Uint8Array): Promise<Uint8Array> {
    return this.device.withSession(async (session) => {
      if (MATERIAL_SPECS[handle.materialSpec].kind === 'hmac') return this.keys.hmac(session, handle.object, handle.materialSpec, message);
      if (this.capabilities.fingerprint === 'aes-ecb') {
        this.p11.C_EncryptInit(session, { mechanism: this.lib.CKM_AES_ECB }, handle.object);
        return new Uint8Array(await this.p11.C_EncryptAsync(session, createHash('sha256').update(message).digest(), Buffer.alloc(32)));
      }
      this.p11.C_SignInit(session, { mechanism: this.lib.CKM_AES_CMAC }, handle.object);
      return new Uint8Array(await this.p11.C_SignAsync(session, Buffer.from(message), Buffer.alloc(16)));
    }, 'Fingerprinting key material');
  }

  protected override async onEncrypt(handle: Pkcs11MaterialHandle, plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    const iv = new Uint8Array(randomBytes(GCM_IV_LENGTH));
    return this.device.withSession(async (session) => {
      this.p11.C_EncryptInit(session, gcmMechanism(this.lib, iv, aad), handle.object);
      const out = await this.p11.C_EncryptAsync(session, Buffer.from(plaintext), Buffer.alloc(plaintext.length + GCM_TAG_LENGTH));
      return concatBytes(iv, out);
    }, 'Encrypting');
  }

  protected override onDecrypt(handle: Pkcs11MaterialHandle, ciphertext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    return this.device.withSession(async (session) => {
      try {
        this.p11.C_DecryptInit(session, gcmMechanism(this.lib, ciphertext.subarray(0, GCM_IV_LENGTH), aad), handle.object);
        return new Uint8Array(await this.p11.C_DecryptAsync(session, Buffer.from(ciphertext.subarray(GCM_IV_LENGTH)), Buffer.alloc(ciphertext.length)));
      } catch {
        throw new ByokError('CIPHERTEXT_INVALID');
      }
    });
  }

  // ---- persistence -----------------------------------------------------------------------------

  protected override onPersist(handle: Pkcs11MaterialHandle, keyId: string): Promise<Uint8Array> {
    return this.persistence.persist(handle, keyId);
  }

  /** The device object a stored reference names. */
  loadMaterial(stored: Uint8Array, materialSpec: MaterialSpec, _keyId: string): Promise<MaterialHandle> {
    return this.persistence.load(stored, materialSpec);
  }

  /** Destroy the device object a stored reference names. */
  destroyPersistedMaterial(stored: Uint8Array, _keyId: string): Promise<void> {
    return this.persistence.destroy(stored);
  }

  // Session objects also go when their session closes: a failed destroy (or a closed backend)
  // leaves nothing behind for long, so release never rejects.
  // The session that made the object is closed once it holds nothing more (session-pool.ts).
  protected override async onRelease(handle: Pkcs11MaterialHandle): Promise<void> {
    if (!handle.sessionObject || this.device.isClosed) return;
    if (this.released.has(handle)) return;
    this.released.add(handle);
    try {
      await this.device.withSession((session) => {
        try {
          this.p11.C_DestroyObject(session, handle.object);
        } catch { /* already gone */ }
      }).catch(() => undefined);
    } finally {
      this.device.disown(handle.owner);
    }
  }

  /** Every wrapping algorithm × key spec and material spec: in the device, on the host (opt-in), or unsupported (why). */
  capabilityReport(): CapabilityReport {
    const report = pkcs11CapabilityReport(this.capabilities, (spec) => this.unsupportedReason({ materialSpec: spec }));
    // The start-up unwrap-template check (unwrap-template-check.ts) is part of what the device does.
    const { state, detail } = this.unwrapTemplate;
    return { ...report, device: { ...report.device, unwrapTemplate: state === 'enforced' ? state : `${state}: ${detail}` } };
  }

  /** Readiness: a pooled session is open and logged in (Pkcs11Device.checkSession). */
  checkReady(): Promise<void> {
    return this.device.checkSession();
  }

  /** Close the sessions and release the module (finalized once no other backend in the process uses it). */
  async close(): Promise<void> {
    this.wrappingKeys.stop();
    this.device.close();
  }
}
