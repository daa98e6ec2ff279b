/**
 * Unwrapping the customer's material in the device. C_UnwrapKey makes a sensitive,
 * non-extractable session object, so the material never exists in host memory — except in the
 * opt-in host-decode mode: raw RSA in the device (CKM_RSA_X_509), EME decoding here with the
 * pure backend's branch-free decoders, then C_CreateObject (the bytes are zeroized after).
 * Every failure on these paths is the one uniform error: a CKR code could be an oracle.
 *
 * A temporary key (an envelope import's first layer) is never refused here for a secret
 * reason: when the device's unwrap fails, a random session AES-256 key of the same template
 * stands in (implicit rejection), so the second layer's C_UnwrapKey, its failure and the
 * release (C_DestroyObject) run the same either way; the handle says `rejected` and the
 * second layer then fails with the uniform error.
 */
import { randomBytes } from 'node:crypto';
import { expectGood, withSubstitute } from '../../algorithms/rsa/ct.js';
import { emeDecodeMasked } from '../../algorithms/rsa/rsa-unwrap.js';
import { MATERIAL_SPECS, WRAPPING_ALGORITHMS, WRAPPING_KEY_SPECS, type MaterialSpec, type RsaPadding } from '../../algorithms/specs.js';
import { zeroize } from '../../bytes.js';
import { ByokError, decryptMaterialFailed, isByokError } from '../../errors.js';
import type { UnwrapRequest } from '../crypto-backend.js';
import type { Pkcs11Capabilities } from './capabilities.js';
import { readCkUlong } from './ck-ulong.js';
import type { Pkcs11Device } from './device.js';
import { Pkcs11MaterialHandle } from './handle.js';
import type { Handle } from './pkcs11js.js';
import type { Pkcs11KeyOperations } from './private-keys.js';
import { oaepMechanism, unwrapTemplate } from './templates.js';
import type { Pkcs11WrappingKeys } from './wrapping-keys.js';

export class Pkcs11Unwrapper {
  constructor(
    private readonly device: Pkcs11Device,
    private readonly capabilities: Pkcs11Capabilities,
    private readonly wrappingKeys: Pkcs11WrappingKeys,
    private readonly keys: Pkcs11KeyOperations,
  ) {}

  /** The wrapping key's unwrap (the base checked support and the ciphertext length). */
  async unwrapMaterial(request: UnwrapRequest): Promise<Pkcs11MaterialHandle> {
    const plan = this.capabilities.unwrapPlan(request.algorithm);
    if (!('path' in plan)) throw new ByokError('ALGORITHM_UNSUPPORTED', plan.reason);
    const padding = WRAPPING_ALGORITHMS[request.algorithm].rsaPadding!;
    const k = WRAPPING_KEY_SPECS[request.keySpec].bits / 8;
    const { lib: l, p11 } = this.device;
    return this.device.withSession(async (session) => {
      const key = this.wrappingKeys.find(session, request.privateKeyBlob, request.cacheKey, request.cacheUntil);
      let object: Handle | undefined;
      try {
        if (plan.path === 'host-decode') {
          const decoded = await this.hostDecodeUnwrap(session, key, padding, request.ciphertext, k, request.materialSpec, request.temporaryKey);
          return new Pkcs11MaterialHandle(request.materialSpec, decoded.object, true, 'host-decode', undefined, decoded.rejected);
        }
        const mechanism = padding.kind === 'pkcs1v15' ? { mechanism: l.CKM_RSA_PKCS } : oaepMechanism(l, padding.hash);
        try {
          object = await p11.C_UnwrapKeyAsync(session, mechanism, key, Buffer.from(request.ciphertext), unwrapTemplate(l, request.materialSpec, request.temporaryKey));
          this.checkMaterialLength(session, object, request.materialSpec);
        } catch (e) {
          if (!request.temporaryKey) throw e;
          if (object) p11.C_DestroyObject(session, object);
          object = undefined;
          return new Pkcs11MaterialHandle(request.materialSpec, this.substituteTemporaryKey(session), true, 'device-unwrap', undefined, true);
        }
        return new Pkcs11MaterialHandle(request.materialSpec, object, true, 'device-unwrap');
      } catch (e) {
        if (object) p11.C_DestroyObject(session, object);
        if (isByokError(e) && e.code !== 'DECRYPT_MATERIAL_FAILED') throw e;
        throw decryptMaterialFailed();
      }
    });
  }

  /** A random AES-256 session key made like a temporary key (the substitute of a failed unwrap). */
  private substituteTemporaryKey(session: Handle): Handle {
    const { lib: l, p11 } = this.device;
    const value = randomBytes(32);
    try {
      return p11.C_CreateObject(session, [...unwrapTemplate(l, 'AES_256', true), { type: l.CKA_VALUE, value }]);
    } finally {
      value.fill(0);
    }
  }

  /** RFC 5649 unwrap under a temporary key from unwrapMaterial (the base checked the spec and length). */
  async unwrapWithTemporaryKey(temporaryKey: Pkcs11MaterialHandle, wrapped: Uint8Array, materialSpec: MaterialSpec): Promise<Pkcs11MaterialHandle> {
    const { lib: l, p11 } = this.device;
    const kwp = this.capabilities.kwp;
    return this.device.withSession(async (session) => {
      const rejected = temporaryKey.rejected === true;
      if (MATERIAL_SPECS[materialSpec].kind === 'private-key') {
        const { object, spki } = await this.keys.unwrapPrivateKey(session, temporaryKey.object, wrapped, materialSpec, rejected);
        return new Pkcs11MaterialHandle(materialSpec, object, true, 'device-unwrap', spki);
      }
      let object: Handle | undefined;
      try {
        object = await p11.C_UnwrapKeyAsync(session, { mechanism: kwp }, temporaryKey.object, Buffer.from(wrapped), unwrapTemplate(l, materialSpec, false));
        // A substitute's unwrap passes the RFC 5649 check but for ~2^-32 odds: fail, unread.
        if (rejected) throw decryptMaterialFailed();
        this.checkMaterialLength(session, object, materialSpec);
        return new Pkcs11MaterialHandle(materialSpec, object, true, 'device-unwrap');
      } catch {
        if (object) p11.C_DestroyObject(session, object);
        throw decryptMaterialFailed();
      }
    });
  }

  /**
   * Where the device reports CKA_VALUE_LEN, check it; SoftHSM2 2.6.1 reports 0 for unwrapped keys
   * (a measured device gap: the length cannot be verified in that device).
   */
  private checkMaterialLength(session: Handle, object: Handle, spec: MaterialSpec): void {
    if (!this.capabilities.reportsValueLength) return;
    const [attr] = this.device.p11.C_GetAttributeValue(session, object, [{ type: this.device.lib.CKA_VALUE_LEN }]);
    const len = attr.value && attr.value.length ? readCkUlong(attr.value) : 0;
    if (len !== 0 && len !== MATERIAL_SPECS[spec].length) throw decryptMaterialFailed();
  }

  /**
   * Opt-in: raw RSA in the device, EME decoding here with the pure backend's decoders. A
   * temporary key's bad padding selects a random substitute (without a branch) and the object
   * is made either way.
   */
  private async hostDecodeUnwrap(session: Handle, key: Handle, padding: RsaPadding, ciphertext: Uint8Array, k: number, spec: MaterialSpec, temporaryKey?: boolean): Promise<{ object: Handle; rejected: boolean }> {
    const { lib: l, p11 } = this.device;
    p11.C_DecryptInit(session, { mechanism: l.CKM_RSA_X_509 }, key);
    const raw = await p11.C_DecryptAsync(session, Buffer.from(ciphertext), Buffer.alloc(k));
    const em = new Uint8Array(k);
    em.set(raw, k - raw.length);
    raw.fill(0);
    const length = MATERIAL_SPECS[spec].length;
    let material: Uint8Array | undefined;
    try {
      const decoded = emeDecodeMasked(padding, em, k, length);
      material = decoded.out;
      let rejected = false;
      if (temporaryKey) rejected = withSubstitute(decoded, new Uint8Array(randomBytes(length))).good !== 1;
      else expectGood(decoded);
      const value = Buffer.from(material);
      try {
        return { object: p11.C_CreateObject(session, [...unwrapTemplate(l, spec, temporaryKey), { type: l.CKA_VALUE, value }]), rejected };
      } finally {
        value.fill(0);
      }
    } finally {
      zeroize(em, material);
    }
  }
}
