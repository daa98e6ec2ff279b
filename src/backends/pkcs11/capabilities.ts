/**
 * What this device can do, learnt once at start-up: its mechanism list, and two probes the
 * list cannot answer (does CKM_RSA_PKCS_OAEP take SHA-256? does an unwrapped key report its
 * CKA_VALUE_LEN?). The backend's capability question and its KAT operations both read it.
 */
import { randomBytes } from 'node:crypto';
import { MATERIAL_SPECS, WRAPPING_ALGORITHMS, type MaterialSpec, type WrappingAlgorithm } from '../../algorithms/specs.js';
import type { Pkcs11Device } from './device.js';
import type { Pkcs11Lib } from './pkcs11js.js';
import { hmacMechanism, oaepMechanism } from './templates.js';

/** Which path an unwrap takes (for the audit record). */
export type UnwrapPath = 'device-unwrap' | 'host-decode';

export const NO_SM2 = 'This PKCS#11 device has no SM2 mechanism.';

export class Pkcs11Capabilities {
  private readonly mechanisms: Set<number>;
  private readonly lib: Pkcs11Lib;
  /** CKM_RSA_PKCS_OAEP takes SHA-256 / MGF1-SHA-256 parameters (SoftHSM2 2.6.1: no). */
  readonly oaepSha256: boolean;
  /** An unwrapped key's CKA_VALUE_LEN is reported (SoftHSM2 2.6.1 reads 0), so lengths can be checked. */
  readonly reportsValueLength: boolean;

  constructor(
    private readonly device: Pkcs11Device,
    /** Mechanism code of AES key wrap with padding: 0x210A (SoftHSM2), 0x210B (PKCS#11 3.0 KWP). */
    readonly kwp: number,
    /** Opt-in: decode OAEP / PKCS#1 v1.5 in TypeScript after a raw CKM_RSA_X_509 decrypt. */
    readonly hostDecode: boolean,
  ) {
    this.lib = device.lib;
    this.mechanisms = device.mechanisms();
    this.oaepSha256 = this.probeOaepSha256();
    this.reportsValueLength = this.probeValueLenReported();
  }

  has(mechanism: number): boolean {
    return this.mechanisms.has(mechanism);
  }

  /** Undefined if the device can hold and use keys of this spec, else why not. */
  materialUnsupportedReason(spec: MaterialSpec): string | undefined {
    const info = MATERIAL_SPECS[spec];
    const l = this.lib;
    if (spec === 'SM4_128') return 'This PKCS#11 device has no SM4 mechanism.';
    if (info.kind === 'hmac') return this.has(hmacMechanism(l, spec)!) ? undefined : `The device lacks the ${info.hmacHash} HMAC mechanism.`;
    if (info.kind !== 'private-key') return undefined;
    const key = info.privateKey!;
    if (!this.has(this.kwp)) return 'The device lacks AES key wrap with padding.';
    if (key.type === 'rsa') {
      return this.has(l.CKM_SHA256_RSA_PKCS) && this.has(l.CKM_SHA256_RSA_PKCS_PSS) ? undefined : 'The device lacks RSA PKCS#1 / PSS signing.';
    }
    if (key.curve === 'SM2') return 'This PKCS#11 device has no SM2 mechanism (SM2 signing needs a vendor mechanism).';
    return this.has(l.CKM_ECDSA) && this.has(l.CKM_ECDH1_DERIVE) ? undefined : 'The device lacks ECDSA or ECDH1 derivation.';
  }

  /** How a wrapping key of the algorithm's family would unwrap it here, or why it cannot. */
  unwrapPlan(algorithm: WrappingAlgorithm): { readonly path: UnwrapPath } | { readonly reason: string } {
    const l = this.lib;
    const alg = WRAPPING_ALGORITHMS[algorithm];
    if (alg.family === 'SM2') return { reason: 'This PKCS#11 device has no SM2 mechanism (SM2_ENCRYPT needs a vendor mechanism).' };
    if (!this.has(l.CKM_RSA_PKCS_KEY_PAIR_GEN) || !this.has(l.CKM_AES_GCM) || !this.has(l.CKM_AES_CMAC)) {
      return { reason: 'The device lacks RSA key generation, AES-GCM or AES-CMAC.' };
    }
    const padding = alg.rsaPadding!;
    const native = padding.kind === 'pkcs1v15'
      ? this.has(l.CKM_RSA_PKCS)
      : this.has(l.CKM_RSA_PKCS_OAEP) && (padding.hash === 'sha1' || this.oaepSha256);
    if (native) return { path: 'device-unwrap' };
    if (this.hostDecode && this.has(l.CKM_RSA_X_509)) return { path: 'host-decode' };
    return { reason: `The device cannot unwrap ${algorithm} (set allowHostOaepDecode to decode it in TypeScript).` };
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
    if (!this.has(this.kwp)) return false;
    const l = this.lib;
    const p11 = this.device.p11;
    try {
      return this.device.withProbeSession((session) => {
        const kek = p11.C_CreateObject(session, [
          { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_AES }, { type: l.CKA_TOKEN, value: false },
          { type: l.CKA_VALUE, value: randomBytes(32) }, { type: l.CKA_WRAP, value: true }, { type: l.CKA_UNWRAP, value: true },
        ]);
        const probe = p11.C_CreateObject(session, [
          { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_AES }, { type: l.CKA_TOKEN, value: false },
          { type: l.CKA_VALUE, value: randomBytes(32) }, { type: l.CKA_EXTRACTABLE, value: true },
        ]);
        const wrapped = p11.C_WrapKey(session, { mechanism: this.kwp }, kek, probe, Buffer.alloc(64));
        const back = p11.C_UnwrapKey(session, { mechanism: this.kwp }, kek, wrapped, [
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
