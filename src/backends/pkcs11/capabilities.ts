/**
 * What this device can do, learnt once at start-up from the device itself: its mechanism list
 * and C_GetMechanismInfo (flags, key sizes), and probes the list cannot answer — the key-wrap
 * mechanism code, chosen by running an RFC 5649 vector (0x210B first, then 0x210A: NSS lists
 * 0x210A but rejects an RFC 5649 blob under it); AES-GCM by a round trip; CKM_RSA_PKCS_OAEP with
 * SHA-256; CKA_VALUE_LEN of an unwrapped key; CKA_ALLOWED_MECHANISMS and a non-copyable copy.
 * Each import path needs only the mechanisms it uses. The backend's capability question, its
 * KAT operations and the start-up report all read it.
 */
import { constants, createCipheriv, generateKeyPairSync, publicEncrypt, randomBytes } from 'node:crypto';
import type * as Pkcs11Js from 'pkcs11js';
import { MATERIAL_SPECS, WRAPPING_ALGORITHMS, WRAPPING_KEY_SPECS, type MaterialSpec, type WrappingAlgorithm, type WrappingKeySpec } from '../../algorithms/specs.js';
import { describeCkr } from './ckr.js';
import type { Pkcs11Device } from './device.js';
import type { Handle, Pkcs11Lib } from './pkcs11js.js';
import { allowedMechanismsAttribute, gcmMechanism, hmacMechanism, oaepMechanism } from './templates.js';
import { probeUnwrapVerdicts, type UnwrapVerdicts } from './unwrap-verdicts.js';

/** Which path an unwrap takes (for the audit record). */
export type UnwrapPath = 'device-unwrap' | 'host-decode';

export const NO_SM2 = 'This PKCS#11 device has no SM2 mechanism.';

/** CKM_AES_KEY_WRAP_KWP of PKCS#11 3.0 (pkcs11js 2.1.7 has no constant for it). */
export const CKM_AES_KEY_WRAP_KWP = 0x210b;

/** RFC 5649 §6, the 20-octet example: KEK, key, and the wrapped key. */
const RFC5649_VECTOR = {
  kek: '5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8',
  key: 'c37b7e6492584340bed12207808941155068f738',
  wrapped: '138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a',
};

/** How the material's fingerprint PRF runs in the device (backend-base: fingerprintMaterial). */
export type FingerprintMechanism = 'cmac' | 'aes-ecb';

export class Pkcs11Capabilities {
  private readonly mechanisms: Set<number>;
  private readonly info = new Map<number, Pkcs11Js.MechanismInfo | undefined>();
  private readonly lib: Pkcs11Lib;
  /** The AES key wrap with padding code that ran the RFC 5649 vector, or undefined if none did. */
  readonly kwp: number | undefined;
  /** Why no key-wrap code was chosen (for the report), when `kwp` is undefined. */
  readonly kwpReason: string | undefined;
  /** CKM_AES_GCM encrypts and decrypts a round trip with CK_GCM_PARAMS (v2.40). */
  readonly gcm: boolean;
  /**
   * The material fingerprint: CKM_AES_CMAC where the device has it, else (documented fallback)
   * AES-ECB of a SHA-256 block of the message — one AES block is a PRF as well.
   */
  readonly fingerprint: FingerprintMechanism | undefined;
  /** CKM_RSA_PKCS_OAEP takes SHA-256 / MGF1-SHA-256 parameters (SoftHSM2 2.6.1: no). */
  readonly oaepSha256: boolean;
  /**
   * CKM_RSA_PKCS refuses a ciphertext whose PKCS#1 v1.5 padding is bad. A device with implicit
   * rejection (NSS: a pseudo-random message instead, the Marvin countermeasure) cannot tell a
   * bad wrap from material, so RSAES_PKCS1_V1_5 imports are not offered there.
   */
  readonly pkcs1v15RefusesBadPadding: boolean;
  /** An unwrapped key's CKA_VALUE_LEN is reported (SoftHSM2 2.6.1 reads 0), so lengths can be checked. */
  readonly reportsValueLength: boolean;
  /**
   * Token objects keep CKA_ALLOWED_MECHANISMS (so every key gets it; NSS's database cannot hold
   * it: CKR_GENERAL_ERROR, so no key gets it there, session objects included, as they are copied).
   */
  readonly allowedMechanisms: boolean;
  /** A token object can be made CKA_COPYABLE=false (NSS: no). */
  readonly notCopyableObjects: boolean;
  /** A C_CopyObject to the token may set CKA_COPYABLE=false (SoftHSM2 2.6.1: CKR_ATTRIBUTE_READ_ONLY; NSS: no). */
  readonly notCopyableCopies: boolean;
  /**
   * C_UnwrapKey makes an EC private key from an RFC 5649-wrapped PKCS#8 (NSS softoken 3.87: no,
   * CKR_TEMPLATE_INCOMPLETE for any EC PKCS#8 and any template, while RSA unwraps).
   */
  readonly ecPrivateKeyUnwrap: boolean;
  /**
   * The CKRs of a failed private-key unwrap that follow only an authentic wrap (unwrap-verdicts.ts:
   * NSS refuses secrets over 256 bytes and PKCS#1 keys after checking the wrap's integrity).
   */
  readonly unwrapVerdicts: UnwrapVerdicts;

  constructor(
    private readonly device: Pkcs11Device,
    /** The key-wrap mechanism the operator set, tried instead of 0x210B then 0x210A. */
    kwpOverride: number | undefined,
    /** Opt-in: decode OAEP / PKCS#1 v1.5 in TypeScript after a raw CKM_RSA_X_509 decrypt. */
    readonly hostDecode: boolean,
  ) {
    this.lib = device.lib;
    this.mechanisms = device.mechanisms();
    const candidates = kwpOverride !== undefined ? [kwpOverride] : [CKM_AES_KEY_WRAP_KWP, this.lib.CKM_AES_KEY_WRAP_PAD];
    this.kwp = candidates.find((m) => this.probeKwp(m));
    this.kwpReason = this.kwp !== undefined ? undefined
      : `no AES key wrap with padding passed the RFC 5649 vector (tried ${candidates.map(hex).join(', ')})`;
    this.gcm = this.probeGcm();
    this.fingerprint = this.can(this.lib.CKM_AES_CMAC, this.lib.CKF_SIGN) ? 'cmac' : this.can(this.lib.CKM_AES_ECB, this.lib.CKF_ENCRYPT) ? 'aes-ecb' : undefined;
    this.oaepSha256 = this.probeOaepSha256();
    this.pkcs1v15RefusesBadPadding = this.probePkcs1v15Refusal();
    this.reportsValueLength = this.probeValueLenReported();
    this.allowedMechanisms = this.probeTokenObject([allowedMechanismsAttribute(this.lib, [this.lib.CKM_AES_GCM])]);
    this.notCopyableObjects = this.probeTokenObject([{ type: this.lib.CKA_COPYABLE, value: false }]);
    this.notCopyableCopies = this.probeNotCopyableCopy();
    this.ecPrivateKeyUnwrap = this.probeEcPrivateKeyUnwrap();
    this.unwrapVerdicts = probeUnwrapVerdicts(device, this.kwp);
  }

  /** A failed opaque-secret unwrap answered with this CKR still proves the wrap authentic (unwrap-verdicts.ts). */
  provesAuthenticWrap(code: number | undefined): boolean {
    return code !== undefined && code === this.unwrapVerdicts.authenticOversizeCkr;
  }

  /** After an authentic wrap: this CKR of a private-key unwrap says the content is not a PKCS#8 key of this type. */
  saysNotPkcs8(keyType: 'rsa' | 'ec' | 'sm2', code: number | undefined): boolean {
    return keyType === 'rsa' && code !== undefined && code === this.unwrapVerdicts.rsaNotPkcs8Ckr;
  }

  /** What an authentic wrap of a PKCS#1 RSA key gets here, and how it is told from a bad wrap (the report, the README's device matrix). */
  notPkcs8Verdict(): string {
    const { longSecretUnwraps, authenticOversizeCkr, rsaNotPkcs8Ckr } = this.unwrapVerdicts;
    if (this.kwp === undefined) return `no key wrap: ${this.kwpReason}`;
    if (longSecretUnwraps) return 'INVALID_PRIVATE_KEY: a second unwrap as an opaque secret proves the wrap authentic';
    if (authenticOversizeCkr === undefined) return 'the uniform error: the device refuses a long opaque secret as it refuses a bad wrap';
    const key = rsaNotPkcs8Ckr !== undefined ? `, and the key's unwrap answers ${describeCkr(this.lib, rsaNotPkcs8Ckr)}` : '';
    return `INVALID_PRIVATE_KEY: the second unwrap, as an opaque secret, is refused only after the wrap's integrity check (${describeCkr(this.lib, authenticOversizeCkr)})${key}`;
  }

  has(mechanism: number): boolean {
    return this.mechanisms.has(mechanism);
  }

  /** C_GetMechanismInfo, asked once per mechanism. */
  mechanismInfo(mechanism: number): Pkcs11Js.MechanismInfo | undefined {
    if (!this.info.has(mechanism)) this.info.set(mechanism, this.has(mechanism) ? this.device.mechanismInfo(mechanism) : undefined);
    return this.info.get(mechanism);
  }

  /** The device lists the mechanism and its info allows `flag` (CKF_UNWRAP, CKF_SIGN, …). */
  can(mechanism: number, flag: number): boolean {
    const info = this.mechanismInfo(mechanism);
    return info !== undefined && (info.flags & flag) !== 0;
  }

  /** CKA_ALLOWED_MECHANISMS for a key that uses these mechanisms, where the device keeps it. */
  allowed(mechanisms: readonly number[]): Pkcs11Js.Template {
    return this.allowedMechanisms ? [allowedMechanismsAttribute(this.lib, mechanisms)] : [];
  }

  /** The mechanisms AES material uses: GCM, and its fingerprint's. */
  materialMechanisms(): number[] {
    const l = this.lib;
    return [l.CKM_AES_GCM, this.fingerprint === 'aes-ecb' ? l.CKM_AES_ECB : l.CKM_AES_CMAC];
  }

  /** Undefined if the device can hold and use keys of this spec, else why not. */
  materialUnsupportedReason(spec: MaterialSpec): string | undefined {
    const info = MATERIAL_SPECS[spec];
    const l = this.lib;
    if (spec === 'SM4_128') return 'This PKCS#11 device has no SM4 mechanism.';
    // HMAC keys need only their HMAC: it is also their fingerprint (no GCM, no CMAC).
    if (info.kind === 'hmac') return this.can(hmacMechanism(l, spec)!, l.CKF_SIGN) ? undefined : `The device lacks the ${info.hmacHash} HMAC mechanism.`;
    if (info.kind === 'symmetric') {
      if (!this.gcm) return 'The device cannot run AES-GCM (CKM_AES_GCM failed its round trip or is absent).';
      if (!this.fingerprint) return 'The device has neither CKM_AES_CMAC nor CKM_AES_ECB for the material fingerprint.';
      return undefined;
    }
    const key = info.privateKey!;
    if (this.kwp === undefined) return `The device lacks AES key wrap with padding: ${this.kwpReason}.`;
    if (key.type === 'rsa') {
      return this.can(l.CKM_SHA256_RSA_PKCS, l.CKF_SIGN) && this.can(l.CKM_SHA256_RSA_PKCS_PSS, l.CKF_SIGN) ? undefined : 'The device lacks RSA PKCS#1 / PSS signing.';
    }
    if (key.curve === 'SM2') return 'This PKCS#11 device has no SM2 mechanism (SM2 signing needs a vendor mechanism).';
    if (!this.can(l.CKM_ECDSA, l.CKF_SIGN) || !this.can(l.CKM_ECDH1_DERIVE, l.CKF_DERIVE)) return 'The device lacks ECDSA or ECDH1 derivation.';
    return this.ecPrivateKeyUnwrap ? undefined : 'The device cannot unwrap an EC private key: C_UnwrapKey of a wrapped PKCS#8 P-256 key failed at start-up (NSS softoken answers CKR_TEMPLATE_INCOMPLETE whatever the template).';
  }

  /** A temporary AES-256 key (envelopes, private keys) needs only the key-wrap mechanism. */
  temporaryKeyUnsupportedReason(): string | undefined {
    return this.kwp === undefined ? `The device lacks AES key wrap with padding: ${this.kwpReason}.` : undefined;
  }

  /** How a wrapping key of this algorithm and spec would unwrap here, or why it cannot. */
  unwrapPlan(algorithm: WrappingAlgorithm, keySpec?: WrappingKeySpec): { readonly path: UnwrapPath } | { readonly reason: string } {
    const l = this.lib;
    const alg = WRAPPING_ALGORITHMS[algorithm];
    if (alg.family === 'SM2') return { reason: 'This PKCS#11 device has no SM2 mechanism (SM2_ENCRYPT needs a vendor mechanism).' };
    const gen = this.mechanismInfo(l.CKM_RSA_PKCS_KEY_PAIR_GEN);
    if (!gen || !(gen.flags & l.CKF_GENERATE_KEY_PAIR)) return { reason: 'The device lacks RSA key pair generation.' };
    if (keySpec !== undefined) {
      const bits = WRAPPING_KEY_SPECS[keySpec].bits;
      // C_GetMechanismInfo key sizes of RSA are in bits (PKCS#11 2.40 §2.1).
      if (bits < gen.minKeySize || bits > gen.maxKeySize) return { reason: `The device generates RSA keys of ${gen.minKeySize} to ${gen.maxKeySize} bits, not ${bits}.` };
    }
    const padding = alg.rsaPadding!;
    if (padding.kind === 'pkcs1v15' && !this.pkcs1v15RefusesBadPadding && !(this.hostDecode && this.can(l.CKM_RSA_X_509, l.CKF_DECRYPT))) {
      return { reason: 'The device answers bad PKCS#1 v1.5 padding with a random message (implicit rejection), so a bad wrap cannot be told from key material; use RSAES_OAEP_SHA_256 or RSAES_OAEP_SHA_1.' };
    }
    const native = padding.kind === 'pkcs1v15'
      ? this.pkcs1v15RefusesBadPadding && this.can(l.CKM_RSA_PKCS, l.CKF_UNWRAP)
      : this.can(l.CKM_RSA_PKCS_OAEP, l.CKF_UNWRAP) && (padding.hash === 'sha1' || this.oaepSha256);
    if (native) return { path: 'device-unwrap' };
    if (this.hostDecode && this.can(l.CKM_RSA_X_509, l.CKF_DECRYPT)) return { path: 'host-decode' };
    return { reason: `The device cannot unwrap ${algorithm} (set allowHostOaepDecode to decode it in TypeScript).` };
  }

  /**
   * Decrypt, with CKM_RSA_PKCS under a throw-away 1024-bit session key, a block whose padding is
   * bad (00 01 … instead of 00 02 …): the device must refuse it.
   */
  private probePkcs1v15Refusal(): boolean {
    const l = this.lib;
    if (!this.has(l.CKM_RSA_PKCS)) return false;
    const p11 = this.device.p11;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwk = privateKey.export({ format: 'jwk' });
    const b = (v: string | undefined) => Buffer.from(v!, 'base64url');
    const em = Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(124, 0xff), Buffer.from([0]), randomBytes(1)]);
    const ciphertext = publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, em);
    try {
      return this.device.withProbeSession((session) => {
        const key = p11.C_CreateObject(session, [
          { type: l.CKA_CLASS, value: l.CKO_PRIVATE_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_RSA }, { type: l.CKA_TOKEN, value: false },
          { type: l.CKA_DECRYPT, value: true }, { type: l.CKA_MODULUS, value: b(jwk.n) }, { type: l.CKA_PUBLIC_EXPONENT, value: b(jwk.e) },
          { type: l.CKA_PRIVATE_EXPONENT, value: b(jwk.d) }, { type: l.CKA_PRIME_1, value: b(jwk.p) }, { type: l.CKA_PRIME_2, value: b(jwk.q) },
          { type: l.CKA_EXPONENT_1, value: b(jwk.dp) }, { type: l.CKA_EXPONENT_2, value: b(jwk.dq) }, { type: l.CKA_COEFFICIENT, value: b(jwk.qi) },
        ]);
        p11.C_DecryptInit(session, { mechanism: l.CKM_RSA_PKCS }, key);
        try {
          p11.C_Decrypt(session, ciphertext, Buffer.alloc(128));
          return false;
        } catch {
          return true;
        }
      });
    } catch {
      // The probe itself could not run (e.g. no session RSA keys): trust the mechanism list.
      return true;
    }
  }

  /**
   * Unwrap a fresh P-256 PKCS#8 key, wrapped here under a throw-away AES key with the key-wrap
   * mechanism chosen above, into a session private key (a throw-away session).
   */
  private probeEcPrivateKeyUnwrap(): boolean {
    const l = this.lib;
    const kwp = this.kwp;
    if (kwp === undefined || !this.has(l.CKM_ECDSA)) return false;
    const kekValue = randomBytes(32);
    try {
      const pkcs8 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'der' });
      // RFC 5649 §3: the alternative initial value A65959A6 ‖ 32-bit length, which OpenSSL's wrap-pad adds.
      const cipher = createCipheriv('id-aes256-wrap-pad', kekValue, Buffer.from('A65959A6', 'hex'));
      const wrapped = Buffer.concat([cipher.update(pkcs8), cipher.final()]);
      return this.device.withProbeSession((session) => {
        const kek = this.throwAwayAes(session, [{ type: l.CKA_UNWRAP, value: true }], kekValue);
        this.device.p11.C_UnwrapKey(session, { mechanism: kwp }, kek, wrapped, [
          { type: l.CKA_CLASS, value: l.CKO_PRIVATE_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_EC }, { type: l.CKA_TOKEN, value: false },
          { type: l.CKA_SENSITIVE, value: true }, { type: l.CKA_EXTRACTABLE, value: false }, { type: l.CKA_SIGN, value: true },
        ]);
        return true;
      });
    } catch {
      return false;
    } finally {
      kekValue.fill(0);
    }
  }

  /** Unwrap the RFC 5649 example under `mechanism` and compare (a throw-away session). */
  private probeKwp(mechanism: number): boolean {
    if (!this.has(mechanism)) return false;
    const l = this.lib;
    const p11 = this.device.p11;
    try {
      return this.device.withProbeSession((session) => {
        const kek = this.throwAwayAes(session, [{ type: l.CKA_UNWRAP, value: true }], Buffer.from(RFC5649_VECTOR.kek, 'hex'));
        const key = p11.C_UnwrapKey(session, { mechanism }, kek, Buffer.from(RFC5649_VECTOR.wrapped, 'hex'), [
          { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_GENERIC_SECRET }, { type: l.CKA_TOKEN, value: false },
          { type: l.CKA_SENSITIVE, value: false }, { type: l.CKA_EXTRACTABLE, value: true },
        ]);
        const [value] = p11.C_GetAttributeValue(session, key, [{ type: l.CKA_VALUE }]);
        return value.value?.toString('hex') === RFC5649_VECTOR.key;
      });
    } catch {
      return false;
    }
  }

  /** AES-256-GCM encrypt then decrypt with AAD under a throw-away key: the parameters are filled right. */
  private probeGcm(): boolean {
    const l = this.lib;
    if (!this.has(l.CKM_AES_GCM)) return false;
    const p11 = this.device.p11;
    try {
      return this.device.withProbeSession((session) => {
        const key = this.throwAwayAes(session, [{ type: l.CKA_ENCRYPT, value: true }, { type: l.CKA_DECRYPT, value: true }]);
        const iv = randomBytes(12), aad = Buffer.from('byok-probe'), message = randomBytes(24);
        p11.C_EncryptInit(session, gcmMechanism(l, iv, aad), key);
        const sealed = Buffer.from(p11.C_Encrypt(session, message, Buffer.alloc(message.length + 16)));
        if (sealed.length !== message.length + 16) return false;
        p11.C_DecryptInit(session, gcmMechanism(l, iv, aad), key);
        return Buffer.from(p11.C_Decrypt(session, sealed, Buffer.alloc(sealed.length))).equals(message);
      });
    } catch {
      return false;
    }
  }

  /** Can a token key carry these policy attributes (read back as asked)? Made, read and destroyed. */
  private probeTokenObject(policy: Pkcs11Js.Template): boolean {
    const l = this.lib;
    const p11 = this.device.p11;
    try {
      return this.device.withProbeSession((session) => {
        const key = this.throwAwayAes(session, [{ type: l.CKA_TOKEN, value: true }, { type: l.CKA_ENCRYPT, value: true }, ...policy]);
        try {
          const got = p11Attributes(p11, session, key, policy.map((a) => a.type));
          return policy.every((a, i) => {
            const v = got[i];
            if (v === undefined) return false;
            if (Buffer.isBuffer(a.value)) return v.length === a.value.length;
            return (v[0] !== 0) === a.value;
          });
        } finally {
          p11.C_DestroyObject(session, key);
        }
      });
    } catch {
      return false;
    }
  }

  /** Can a copy to the token be made non-copyable (C_CopyObject with CKA_COPYABLE=false)? */
  private probeNotCopyableCopy(): boolean {
    const l = this.lib;
    const p11 = this.device.p11;
    try {
      return this.device.withProbeSession((session) => {
        const key = this.throwAwayAes(session, [{ type: l.CKA_ENCRYPT, value: true }]);
        const copy = p11.C_CopyObject(session, key, [{ type: l.CKA_TOKEN, value: true }, { type: l.CKA_COPYABLE, value: false }]);
        try {
          const [got] = p11Attributes(p11, session, copy, [l.CKA_COPYABLE]);
          return got !== undefined && got[0] === 0;
        } finally {
          p11.C_DestroyObject(session, copy);
        }
      });
    } catch {
      return false;
    }
  }

  /** An AES key made for a probe: a session object unless `extra` says CKA_TOKEN, random unless `value` is given. */
  private throwAwayAes(session: Handle, extra: Pkcs11Js.Template, value: Buffer = randomBytes(32)): Handle {
    const l = this.lib;
    const token = extra.some((a) => a.type === l.CKA_TOKEN);
    return this.device.p11.C_CreateObject(session, [
      { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_AES },
      ...(token ? [] : [{ type: l.CKA_TOKEN, value: false }]), { type: l.CKA_LABEL, value: 'byok-probe' },
      { type: l.CKA_VALUE, value }, ...extra,
    ]);
  }

  /**
   * Whether CKM_RSA_PKCS_OAEP takes SHA-256 parameters: the mechanism list cannot say, so ask the
   * device with a throw-away public key (SoftHSM2 2.6.1 answers CKR_ARGUMENTS_BAD).
   */
  private probeOaepSha256(): boolean {
    const l = this.lib;
    const p11 = this.device.p11;
    if (!this.has(l.CKM_RSA_PKCS_OAEP)) return false;
    // Public-key encryption needs no real key: any odd 2048-bit modulus will do for the probe.
    const modulus = Buffer.alloc(256, 0xff);
    return this.device.withProbeSession((session) => {
      const obj = p11.C_CreateObject(session, [
        { type: l.CKA_CLASS, value: l.CKO_PUBLIC_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_RSA },
        { type: l.CKA_TOKEN, value: false }, { type: l.CKA_ENCRYPT, value: true },
        { type: l.CKA_MODULUS, value: modulus }, { type: l.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
      ]);
      try {
        p11.C_EncryptInit(session, oaepMechanism(l, 'sha256'), obj);
        p11.C_Encrypt(session, Buffer.alloc(16), Buffer.alloc(512));
        return true;
      } catch {
        return false;
      }
    });
  }

  /**
   * Does the device report CKA_VALUE_LEN of an unwrapped AES key? Unwrap a known 32-byte key
   * (AES key wrap with padding under a throw-away KEK) and read it back.
   */
  private probeValueLenReported(): boolean {
    const kwp = this.kwp;
    if (kwp === undefined) return false;
    const l = this.lib;
    const p11 = this.device.p11;
    try {
      return this.device.withProbeSession((session) => {
        const kek = this.throwAwayAes(session, [{ type: l.CKA_WRAP, value: true }, { type: l.CKA_UNWRAP, value: true }]);
        const probe = this.throwAwayAes(session, [{ type: l.CKA_EXTRACTABLE, value: true }]);
        const wrapped = p11.C_WrapKey(session, { mechanism: kwp }, kek, probe, Buffer.alloc(64));
        const back = p11.C_UnwrapKey(session, { mechanism: kwp }, kek, wrapped, [
          { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_AES }, { type: l.CKA_TOKEN, value: false },
        ]);
        const [attr] = p11.C_GetAttributeValue(session, back, [{ type: l.CKA_VALUE_LEN }]);
        return Boolean(attr.value && attr.value.some((b) => b !== 0));
      });
    } catch {
      return false;
    }
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).toUpperCase()}`;
}

/** Attribute values (undefined where the device does not have one). */
function p11Attributes(p11: Pkcs11Js.PKCS11, session: Handle, object: Handle, types: number[]): Array<Buffer | undefined> {
  return p11.C_GetAttributeValue(session, object, types.map((type) => ({ type }))).map((a) => a.value as Buffer | undefined);
}
