/**
 * Does the device enforce CKA_UNWRAP_TEMPLATE? Asked once at start-up on a throw-away session key
 * pair made like a wrapping key (CKA_UNWRAP_TEMPLATE forcing sensitive, non-extractable): unwrap
 * a known secret into an extractable, non-sensitive object, as a PIN holder would. The device
 * enforces the template if that fails while the same unwrap into a sensitive, non-extractable
 * object succeeds. Measured: SoftHSM2 2.6.1 enforces it; NSS softoken 3.87 accepts the attribute
 * and ignores it; opencryptoki 3.8 refuses the attribute (CKR_ATTRIBUTE_TYPE_INVALID).
 *
 * Policy (`unwrapTemplatePolicy`): `required` (the default) refuses to start unless the device
 * enforces it; `best-effort` starts anyway, without the template, and reports the state — the wrapping key's other defences (destroyed once its import succeeds,
 * swept at the end of its lifetime, every created object read back) then stand alone.
 */
import { randomBytes } from 'node:crypto';
import { ByokError } from '../../errors.js';
import { AttributeArrays } from './attribute-arrays.js';
import { describeCkr } from './ckr.js';
import type { Pkcs11Device } from './device.js';
import type { Handle } from './pkcs11js.js';
import { forcedUnwrapTemplate, oaepMechanism } from './templates.js';

/**
 * `required`: refuse a device that does not enforce the unwrap template (or a build without the
 * addon); `best-effort`: start anyway, relying on read-back and destroying wrapping keys after use.
 */
export type UnwrapTemplatePolicy = 'required' | 'best-effort';

/**
 * `enforced`: the device refuses to unwrap into an extractable object. `not-enforced`: it takes
 * the attribute and ignores it. `not-accepted`: it refuses the attribute itself. `no-addon`: the
 * pkcs11-attrs addon (the only way to pass the attribute) is not built.
 */
export type UnwrapTemplateState = 'enforced' | 'not-enforced' | 'not-accepted' | 'no-addon';

/** What the start-up check found about the device's unwrap template. */
export interface UnwrapTemplateStatus {
  readonly state: UnwrapTemplateState;
  /** What was seen, in words (for the capability report and the start-up error). */
  readonly detail: string;
}

/** How wrapping keys get their unwrap template on this device. */
export interface UnwrapTemplateSupport {
  /**
   * Set where the device enforces the template: wrapping keys are generated through the addon.
   * Elsewhere they are not given it at all (NSS takes it on a session key, ignores it, and fails
   * C_GenerateKeyPair of a token key with it: CKR_GENERAL_ERROR).
   */
  readonly arrays?: AttributeArrays;
  readonly status: UnwrapTemplateStatus;
}

/** The smallest RSA key the probe may use: it only has to unwrap 32 bytes. */
const PROBE_RSA_BITS = 1024;

/**
 * Check the device, then apply the policy: BACKEND_UNAVAILABLE under `required` unless enforced.
 * `arrays`: the addon bound to the device's module (a test passes a missing one).
 */
export async function unwrapTemplateSupport(device: Pkcs11Device, policy: UnwrapTemplatePolicy,
  arrays: AttributeArrays | { readonly missing: string } = AttributeArrays.open(device.lib, device.modulePath)): Promise<UnwrapTemplateSupport> {
  const support: UnwrapTemplateSupport = 'missing' in arrays
    ? { status: { state: 'no-addon', detail: arrays.missing } }
    : await probe(device, arrays);
  if (support.status.state !== 'enforced' && policy === 'required') {
    throw new ByokError('BACKEND_UNAVAILABLE',
      `CKA_UNWRAP_TEMPLATE is not enforced here (${support.status.state}: ${support.status.detail}), so a PIN holder could unwrap an import's ciphertext into an extractable object. Set BYOK_PKCS11_UNWRAP_TEMPLATE=best-effort to run without that defence.`);
  }
  return support;
}

function ckrOf(device: Pkcs11Device, e: unknown): string {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? describeCkr(device.lib, code) : (e as Error).message;
}

async function probe(device: Pkcs11Device, arrays: AttributeArrays): Promise<UnwrapTemplateSupport> {
  const { lib: l, p11 } = device;
  const session = p11.C_OpenSession(device.slot, l.CKF_SERIAL_SESSION);
  try {
    const info = p11.C_GetMechanismInfo(device.slot, l.CKM_RSA_PKCS_KEY_PAIR_GEN);
    const bits = Math.max(PROBE_RSA_BITS, info.minKeySize);
    let pair;
    try {
      pair = await arrays.generateKeyPair(session, l.CKM_RSA_PKCS_KEY_PAIR_GEN, [
        { type: l.CKA_TOKEN, value: false }, { type: l.CKA_MODULUS_BITS, value: bits },
        { type: l.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) }, { type: l.CKA_ENCRYPT, value: true },
      ], [
        { type: l.CKA_TOKEN, value: false }, { type: l.CKA_PRIVATE, value: true },
        { type: l.CKA_SENSITIVE, value: true }, { type: l.CKA_EXTRACTABLE, value: false }, { type: l.CKA_UNWRAP, value: true },
        { type: l.CKA_UNWRAP_TEMPLATE, value: forcedUnwrapTemplate(l) },
      ]);
    } catch (e) {
      return { status: { state: 'not-accepted', detail: `C_GenerateKeyPair with CKA_UNWRAP_TEMPLATE answers ${ckrOf(device, e)}` } };
    }
    const mechanism = device.mechanisms().has(l.CKM_RSA_PKCS) ? { mechanism: l.CKM_RSA_PKCS } : oaepMechanism(l, 'sha1');
    const secret = randomBytes(32);
    try {
      p11.C_EncryptInit(session, mechanism, pair.publicKey);
      const ciphertext = p11.C_Encrypt(session, secret, Buffer.alloc(bits / 8));
      const unwrap = (sensitive: boolean): Handle => p11.C_UnwrapKey(session, mechanism, pair.privateKey, ciphertext, [
        { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_GENERIC_SECRET }, { type: l.CKA_TOKEN, value: false },
        { type: l.CKA_SENSITIVE, value: sensitive }, { type: l.CKA_EXTRACTABLE, value: !sensitive },
      ]);
      let leaked: Handle | undefined;
      try {
        leaked = unwrap(false);
      } catch { /* refused: what an enforcing device does */ }
      if (leaked) {
        p11.C_DestroyObject(session, leaked);
        return { status: { state: 'not-enforced', detail: 'the device takes CKA_UNWRAP_TEMPLATE but unwraps into an extractable, non-sensitive object anyway' } };
      }
      try {
        p11.C_DestroyObject(session, unwrap(true));
      } catch (e) {
        return { status: { state: 'not-enforced', detail: `not verifiable: a compliant unwrap fails too (${ckrOf(device, e)})` } };
      }
      return { arrays, status: { state: 'enforced', detail: 'an unwrap into an extractable object is refused' } };
    } finally {
      secret.fill(0);
      for (const key of [pair.privateKey, pair.publicKey]) {
        try {
          p11.C_DestroyObject(session, key);
        } catch { /* the session's close takes it */ }
      }
    }
  } finally {
    p11.C_CloseSession(session);
  }
}
