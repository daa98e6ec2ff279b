/**
 * Wrapping key pairs made in the device (CKM_RSA_PKCS_KEY_PAIR_GEN). The private key is a token
 * object, sensitive, non-extractable, CKA_UNWRAP only (no sign-recover, no derive, not modifiable
 * or copyable, its mechanisms listed), found by a random CKA_ID that the import token carries
 * (blob: 1 ‖ CKA_ID(16)); any engine sharing the device can use any token. The number of objects
 * stays bounded: a key is destroyed once its import succeeds or its pool drops it, and a sweeper
 * on a timer destroys keys past their lifetime (derived from the token lifetime).
 */
import { randomBytes } from 'node:crypto';
import { rsaSpki } from '../../algorithms/asn1/index.js';
import { WRAPPING_KEY_SPECS, type WrappingKeySpec } from '../../algorithms/specs.js';
import { bytesToBigInt, concatBytes } from '../../bytes.js';
import type { Clock } from '../../clock.js';
import { ByokError } from '../../errors.js';
import type { WrappingKeyPair } from '../crypto-backend.js';
import type { AttributeArrays } from './attribute-arrays.js';
import { ExpiringCache } from '../key-cache.js';
import { NO_SM2, type Pkcs11Capabilities } from './capabilities.js';
import type { Pkcs11Device } from './device.js';
import type { Handle } from './pkcs11js.js';
import { checkHonoured } from './readback.js';
import { forcedUnwrapTemplate, wrappingKeyPairTemplates } from './templates.js';

const BLOB_VERSION = 1;
const WRAPPING_LABEL_PREFIX = 'byok-wrapping-key/';
/** What a namespace may be: it sits in the label between the prefix and the expiry. */
const NAMESPACE = /^[A-Za-z0-9._-]{1,32}$/;

/** Refuse a namespace that could not be told apart in a label (checked before the device opens). */
export function checkNamespace(namespace: string | undefined): void {
  if (namespace !== undefined && !NAMESPACE.test(namespace)) {
    throw new ByokError('INVALID_PARAMETER', 'The PKCS#11 namespace must be 1 to 32 of A-Z a-z 0-9 . _ -.');
  }
}
/** A sweep lists every private key on the token: at most once a minute unless forced. */
const SWEEP_INTERVAL_SECONDS = 60;

export class Pkcs11WrappingKeys {
  private lastSweep = 0;
  /** The label up to the expiry: the prefix and this backend's namespace. */
  private readonly labelPrefix: string;
  /** Wrapping-key object handles by token digest, so an unwrap need not search the token each time. */
  private readonly handles: ExpiringCache<Handle>;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly device: Pkcs11Device,
    private readonly capabilities: Pkcs11Capabilities,
    private readonly clock: Clock,
    /** Seconds a wrapping key lives after generation before the sweeper may destroy it. */
    readonly lifetimeSeconds: number,
    /** How often the sweeper runs, ms (0: never on its own). */
    sweepIntervalMs: number,
    /** Where the device enforces CKA_UNWRAP_TEMPLATE: the addon that can pass it (unwrap-template-check.ts). */
    private readonly attributeArrays?: AttributeArrays,
    /** The namespace of this backend's wrapping keys (options.ts): the sweeper touches no other. */
    namespace?: string,
  ) {
    // Without a namespace the expiry follows the prefix (`byok-wrapping-key/<expiry>`), so such a
    // sweeper reads a namespaced label's rest (`ns/<expiry>`) as no number and leaves it alone.
    this.labelPrefix = namespace === undefined ? WRAPPING_LABEL_PREFIX : `${WRAPPING_LABEL_PREFIX}${namespace}/`;
    this.handles = new ExpiringCache<Handle>(1024, clock);
    // Object handles may change when the module is initialised again: find keys afresh.
    device.onRecovery(() => this.handles.clear());
    if (sweepIntervalMs > 0) {
      this.timer = setInterval(() => {
        if (!device.isClosed) this.sweepExpired(true).catch(() => undefined);
      }, sweepIntervalMs);
      this.timer.unref();
    }
  }

  /** Stop the sweeper (the backend's close). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The mechanisms a wrapping private key is allowed (CKA_ALLOWED_MECHANISMS where kept). */
  private allowedMechanisms(): number[] {
    const l = this.device.lib;
    return [l.CKM_RSA_PKCS_OAEP, l.CKM_RSA_PKCS, ...(this.capabilities.hostDecode ? [l.CKM_RSA_X_509] : [])];
  }

  async generate(keySpec: WrappingKeySpec): Promise<WrappingKeyPair> {
    const info = WRAPPING_KEY_SPECS[keySpec];
    if (info.family !== 'RSA') throw new ByokError('ALGORITHM_UNSUPPORTED', NO_SM2);
    await this.sweepExpired();
    const { lib: l, p11 } = this.device;
    const id = randomBytes(16);
    const expiresAt = Math.floor(this.clock.now() / 1000) + this.lifetimeSeconds;
    const [publicTemplate, privateTemplate] = wrappingKeyPairTemplates(l, info.bits, id, `${this.labelPrefix}${expiresAt}`,
      this.capabilities.hostDecode, this.capabilities.allowed(this.allowedMechanisms()), this.capabilities.notCopyableObjects);
    return this.device.withSession(async (session) => {
      // Whatever the private key unwraps is sensitive and non-extractable, by the device's rule.
      const pair = this.attributeArrays
        ? await this.attributeArrays.generateKeyPair(session, l.CKM_RSA_PKCS_KEY_PAIR_GEN, publicTemplate, [...privateTemplate, { type: l.CKA_UNWRAP_TEMPLATE, value: forcedUnwrapTemplate(l) }])
        : await p11.C_GenerateKeyPairAsync(session, { mechanism: l.CKM_RSA_PKCS_KEY_PAIR_GEN }, publicTemplate, privateTemplate);
      try {
        checkHonoured(p11, l, session, pair.privateKey, privateTemplate, 'a wrapping private key');
        const [modulus, exponent] = p11.C_GetAttributeValue(session, pair.publicKey, [{ type: l.CKA_MODULUS }, { type: l.CKA_PUBLIC_EXPONENT }]);
        const spki = rsaSpki(bytesToBigInt(modulus.value!), bytesToBigInt(exponent.value!));
        return { keySpec, publicKeySpki: spki, privateKeyBlob: concatBytes(Uint8Array.of(BLOB_VERSION), id) };
      } finally {
        p11.C_DestroyObject(session, pair.publicKey);
      }
    }, 'Generating a wrapping key pair');
  }

  /** The private key a token's blob names; IMPORT_TOKEN_EXPIRED once swept (or on another device). */
  find(session: Handle, blob: Uint8Array, cacheKey?: string, cacheUntil?: number): Handle {
    if (blob.length !== 17 || blob[0] !== BLOB_VERSION) throw new ByokError('INTERNAL_ERROR', 'Wrapping key reference is malformed.');
    const cached = cacheKey !== undefined ? this.handles.get(cacheKey) : undefined;
    if (cached) return cached;
    const { lib: l } = this.device;
    const [key] = this.device.findObjects(session, [{ type: l.CKA_CLASS, value: l.CKO_PRIVATE_KEY }, { type: l.CKA_ID, value: Buffer.from(blob.subarray(1)) }], 1);
    if (!key) {
      this.device.assertLoggedIn(session);
      throw new ByokError('IMPORT_TOKEN_EXPIRED', 'The wrapping key of this import token is no longer in the device.');
    }
    if (cacheKey !== undefined && cacheUntil !== undefined) this.handles.set(cacheKey, key, cacheUntil);
    return key;
  }

  /** Destroy the wrapping key a token's blob names (its import succeeded, or its pool dropped it). Never rejects. */
  async discard(blob: Uint8Array): Promise<void> {
    if (blob.length !== 17 || blob[0] !== BLOB_VERSION || this.device.isClosed) return;
    const { lib: l } = this.device;
    const id = Buffer.from(blob.subarray(1));
    await this.device.withSession((session) => {
      for (const key of this.device.findObjects(session, [{ type: l.CKA_CLASS, value: l.CKO_PRIVATE_KEY }, { type: l.CKA_ID, value: id }], 4)) {
        this.device.p11.C_DestroyObject(session, key);
      }
    }, 'Destroying a used wrapping key').catch(() => undefined);
    // Cached handles of it would name a destroyed object (or, reused, another one).
    this.handles.clear();
  }

  /** Destroy wrapping keys past their lifetime; the number destroyed. */
  async sweepExpired(force = false): Promise<number> {
    const now = Math.floor(this.clock.now() / 1000);
    if (!force && now - this.lastSweep < SWEEP_INTERVAL_SECONDS) return 0;
    this.lastSweep = now;
    const { lib: l, p11 } = this.device;
    return this.device.withSession((session) => {
      let destroyed = 0;
      p11.C_FindObjectsInit(session, [{ type: l.CKA_CLASS, value: l.CKO_PRIVATE_KEY }, { type: l.CKA_TOKEN, value: true }]);
      const found: Handle[] = [];
      try {
        for (let batch = p11.C_FindObjects(session, 256); batch.length; batch = p11.C_FindObjects(session, 256)) found.push(...batch);
      } finally {
        p11.C_FindObjectsFinal(session);
      }
      for (const obj of found) {
        const [label] = p11.C_GetAttributeValue(session, obj, [{ type: l.CKA_LABEL }]);
        const text = label.value?.toString('utf8') ?? '';
        if (!text.startsWith(this.labelPrefix)) continue;
        const rest = text.slice(this.labelPrefix.length);
        // Digits only: another namespace's `ns/<expiry>` under the bare prefix is not ours.
        const expiresAt = /^\d+$/.test(rest) ? Number(rest) : NaN;
        if (Number.isFinite(expiresAt) && expiresAt <= now) {
          p11.C_DestroyObject(session, obj);
          destroyed++;
        }
      }
      if (destroyed) this.handles.clear();
      return destroyed;
    }, 'Sweeping expired wrapping keys');
  }
}
