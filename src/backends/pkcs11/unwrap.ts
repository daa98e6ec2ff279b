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
import type * as Pkcs11Js from 'pkcs11js';
import { ByokError, decryptMaterialFailed, isByokError } from '../../errors.js';
import type { UnwrapRequest } from '../crypto-backend.js';
import type { Pkcs11Capabilities, UnwrapPath } from './capabilities.js';
import { readCkUlong } from './ck-ulong.js';
import type { Pkcs11Device } from './device.js';
import { Pkcs11MaterialHandle } from './handle.js';
import type { Handle } from './pkcs11js.js';
import type { Pkcs11KeyOperations } from './private-keys.js';
import { checkHonoured } from './readback.js';
import { hmacMechanism, oaepMechanism, unwrapTemplate } from './templates.js';
import type { Pkcs11WrappingKeys } from './wrapping-keys.js';

export class Pkcs11Unwrapper {
  constructor(
    private readonly device: Pkcs11Device,
    private readonly capabilities: Pkcs11Capabilities,
    private readonly wrappingKeys: Pkcs11WrappingKeys,
    private readonly keys: Pkcs11KeyOperations,
  ) {}

  /** What an unwrap of this spec makes: the template, with the mechanisms it may use where the device keeps them. */
  private template(spec: MaterialSpec, temporaryKey: boolean | undefined): Pkcs11Js.Template {
    const l = this.device.lib;
    const caps = this.capabilities;
    const mechanisms = MATERIAL_SPECS[spec].kind === 'hmac' ? [hmacMechanism(l, spec)!]
      : temporaryKey ? (caps.kwp !== undefined ? [caps.kwp] : [])
        : caps.materialMechanisms();
    return unwrapTemplate(l, spec, temporaryKey, caps.allowed(mechanisms));
  }

  /**
   * The wrapping key's unwrap (the base checked support and the ciphertext length). The object
   * is made on this operation's session, which keeps it (device.own) until released; on any
   * failure this operation destroys it. A device fault passes through (withSession recovers and
   * retries) only when the session confirms it; anything else is the uniform error.
   */
  async unwrapMaterial(request: UnwrapRequest): Promise<Pkcs11MaterialHandle> {
    const plan = this.capabilities.unwrapPlan(request.algorithm, request.keySpec);
    if (!('path' in plan)) throw new ByokError('ALGORITHM_UNSUPPORTED', plan.reason);
    const padding = WRAPPING_ALGORITHMS[request.algorithm].rsaPadding!;
    const k = WRAPPING_KEY_SPECS[request.keySpec].bits / 8;
    const { lib: l, p11 } = this.device;
    const template = this.template(request.materialSpec, request.temporaryKey);
    return this.device.withSession(async (session) => {
      const key = this.wrappingKeys.find(session, request.privateKeyBlob, request.cacheKey, request.cacheUntil);
      const kept = (object: Handle, path: UnwrapPath, rejected = false) =>
        new Pkcs11MaterialHandle(request.materialSpec, object, true, path, undefined, rejected, this.device.own(session));
      let object: Handle | undefined;
      try {
        if (plan.path === 'host-decode') {
          const decoded = await this.hostDecodeUnwrap(session, key, padding, request.ciphertext, k, request.materialSpec, template, request.temporaryKey);
          object = decoded.object;
          checkHonoured(p11, l, session, object, template, `unwrapped ${request.materialSpec}`);
          return kept(object, 'host-decode', decoded.rejected);
        }
        const mechanism = padding.kind === 'pkcs1v15' ? { mechanism: l.CKM_RSA_PKCS } : oaepMechanism(l, padding.hash);
        let rejected = false;
        try {
          object = await p11.C_UnwrapKeyAsync(session, mechanism, key, Buffer.from(request.ciphertext), template);
          this.checkMaterialLength(session, object, request.materialSpec);
        } catch (e) {
          if (this.device.confirmsFault(e, session)) throw e;
          if (!request.temporaryKey) throw e;
          if (object) p11.C_DestroyObject(session, object);
          object = this.substituteTemporaryKey(session, template);
          rejected = true;
        }
        // The device's template honouring does not depend on the secret: a refusal is its own code.
        checkHonoured(p11, l, session, object, template, `unwrapped ${request.materialSpec}`);
        return kept(object, 'device-unwrap', rejected);
      } catch (e) {
        if (object) {
          try {
            p11.C_DestroyObject(session, object);
          } catch { /* destroyed by the read-back already */ }
        }
        if (this.device.confirmsFault(e, session)) throw e;
        if (isByokError(e) && e.code !== 'DECRYPT_MATERIAL_FAILED') throw e;
        throw decryptMaterialFailed();
      }
    }, 'Unwrapping key material');
  }

  /** A random AES-256 session key made like a temporary key (the substitute of a failed unwrap). */
  private substituteTemporaryKey(session: Handle, template: Pkcs11Js.Template): Handle {
    const { lib: l, p11 } = this.device;
    const value = randomBytes(32);
    try {
      return p11.C_CreateObject(session, [...template, { type: l.CKA_VALUE, value }]);
    } finally {
      value.fill(0);
    }
  }

  /**
   * RFC 5649 unwrap under a temporary key from unwrapMaterial (the base checked the spec and
   * length). The result's path is the temporary key's: `host-decode` if its RSA layer was
   * decoded on the host, so the audit says where the secret was in the clear.
   */
  async unwrapWithTemporaryKey(temporaryKey: Pkcs11MaterialHandle, wrapped: Uint8Array, materialSpec: MaterialSpec): Promise<Pkcs11MaterialHandle> {
    const { lib: l, p11 } = this.device;
    const kwp = this.capabilities.kwp;
    if (kwp === undefined) throw new ByokError('ALGORITHM_UNSUPPORTED', this.capabilities.temporaryKeyUnsupportedReason());
    const path: UnwrapPath = temporaryKey.path === 'host-decode' ? 'host-decode' : 'device-unwrap';
    return this.device.withSession(async (session) => {
      const rejected = temporaryKey.rejected === true;
      if (MATERIAL_SPECS[materialSpec].kind === 'private-key') {
        const { object, spki } = await this.keys.unwrapPrivateKey(session, temporaryKey.object, wrapped, materialSpec, rejected);
        return new Pkcs11MaterialHandle(materialSpec, object, true, path, spki, false, this.device.own(session));
      }
      const template = this.template(materialSpec, false);
      let object: Handle | undefined;
      try {
        object = await p11.C_UnwrapKeyAsync(session, { mechanism: kwp }, temporaryKey.object, Buffer.from(wrapped), template);
        // A substitute's unwrap passes the RFC 5649 check but for ~2^-32 odds: fail, unread.
        if (rejected) throw decryptMaterialFailed();
        this.checkMaterialLength(session, object, materialSpec);
      } catch (e) {
        if (object) p11.C_DestroyObject(session, object);
        if (this.device.confirmsFault(e, session)) throw e;
        throw decryptMaterialFailed();
      }
      checkHonoured(p11, l, session, object, template, `unwrapped ${materialSpec}`);
      return new Pkcs11MaterialHandle(materialSpec, object, true, path, undefined, false, this.device.own(session));
    }, 'Unwrapping key material');
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
  private async hostDecodeUnwrap(session: Handle, key: Handle, padding: RsaPadding, ciphertext: Uint8Array, k: number, spec: MaterialSpec, template: Pkcs11Js.Template, temporaryKey?: boolean): Promise<{ object: Handle; rejected: boolean }> {
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
        return { object: p11.C_CreateObject(session, [...template, { type: l.CKA_VALUE, value }]), rejected };
      } finally {
        value.fill(0);
      }
    } finally {
      zeroize(em, material);
    }
  }
}
