/**
 * What a failed private-key unwrap may be taken to mean on this device, learnt at start-up on a
 * throw-away RSA key: which CKR says "the wrap was authentic but the content is not a PKCS#8 RSA
 * key the device reads", and which CKR of the opaque-secret probe (private-keys.ts) says "the
 * wrap was authentic but the secret is too long for this device".
 *
 * Why: an import tells a bad wrap (the uniform error) from an authentic key that is not PKCS#8
 * (INVALID_PRIVATE_KEY with the conversion hint) by unwrapping the blob again as an opaque
 * secret. NSS softoken 3.87 unwraps no secret over 256 bytes (CKR_TEMPLATE_INCONSISTENT), and
 * answers CKR_TEMPLATE_INCOMPLETE for anything it cannot parse as a private key. Measured there
 * with pkcs11js: every tampered, truncated or wrong-KEK RFC 5649 blob, of any length and under
 * either template, answers CKR_WRAPPED_KEY_INVALID — NSS checks the integrity value before it
 * looks at the length or the content — so both CKRs can only follow an authentic wrap. That is
 * re-checked here on every start (an authentic and a tampered blob of each kind), and a CKR is
 * trusted only where the tampered blob got another one. The key material never reaches the host.
 */
import { createCipheriv, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type * as Pkcs11Js from 'pkcs11js';
import { MATERIAL_SPECS } from '../../algorithms/specs.js';
import { ckrOf } from './ckr.js';
import type { Pkcs11Device } from './device.js';
import type { Handle, Pkcs11Lib } from './pkcs11js.js';
import { hmacTemplate, privateKeyTemplate } from './templates.js';

export interface UnwrapVerdicts {
  /** An authentic wrap of a long secret (a PKCS#1 RSA-2048 key's 1,190 bytes) unwraps as an opaque secret (SoftHSM2). */
  readonly longSecretUnwraps: boolean;
  /**
   * The CKR the device gives an authentic RFC 5649 wrap of a secret too long to unwrap as an
   * opaque secret, where a tampered wrap of it gets another; undefined where long secrets unwrap
   * (SoftHSM2) or the two cannot be told apart.
   */
  readonly authenticOversizeCkr: number | undefined;
  /**
   * The CKR an authentic wrap of a PKCS#1 RSA key gets under the RSA private-key template, on a
   * device that unwraps the same key as PKCS#8 and answers a tampered wrap otherwise; undefined
   * where that was not shown.
   */
  readonly rsaNotPkcs8Ckr: number | undefined;
}

export const NO_VERDICTS: UnwrapVerdicts = { longSecretUnwraps: false, authenticOversizeCkr: undefined, rsaNotPkcs8Ckr: undefined };

/** One throw-away RSA-2048 key per process for this probe (made once: ~100 ms). */
let probeKey: KeyObject | undefined;

/** RFC 5649 wrap under `kek` (OpenSSL's wrap-pad with the alternative initial value A65959A6). */
function kwpWrap(kek: Buffer, data: Buffer): Buffer {
  const cipher = createCipheriv('id-aes256-wrap-pad', kek, Buffer.from('A65959A6', 'hex'));
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** The CKR of an unwrap, 0 (CKR_OK) where it made an object (destroyed at once). */
function unwrapCkr(p11: Pkcs11Js.PKCS11, l: Pkcs11Lib, session: Handle, kwp: number, kek: Handle, blob: Buffer, template: Pkcs11Js.Template): number | undefined {
  try {
    p11.C_DestroyObject(session, p11.C_UnwrapKey(session, { mechanism: kwp }, kek, blob, template));
    return l.CKR_OK;
  } catch (e) {
    return ckrOf(l, e);
  }
}

/** A tampered copy: one bit of the last semiblock flipped (the integrity value no longer holds). */
function tampered(blob: Buffer): Buffer {
  const copy = Buffer.from(blob);
  copy[copy.length - 3] ^= 0x40;
  return copy;
}

/** Run the probe on a throw-away session (the device's key-wrap code `kwp`). */
export function probeUnwrapVerdicts(device: Pkcs11Device, kwp: number | undefined): UnwrapVerdicts {
  if (kwp === undefined) return NO_VERDICTS;
  const l = device.lib;
  const p11 = device.p11;
  probeKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const pkcs8 = probeKey.export({ type: 'pkcs8', format: 'der' });
  const pkcs1 = probeKey.export({ type: 'pkcs1', format: 'der' });
  const kekValue = randomBytes(32);
  try {
    return device.withProbeSession((session) => {
      const kek = p11.C_CreateObject(session, [
        { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_AES }, { type: l.CKA_TOKEN, value: false },
        { type: l.CKA_LABEL, value: 'byok-probe' }, { type: l.CKA_VALUE, value: kekValue }, { type: l.CKA_UNWRAP, value: true },
      ]);
      const rsaTemplate = privateKeyTemplate(l, MATERIAL_SPECS.RSA_2048.privateKey!);
      const run = (data: Buffer, template: Pkcs11Js.Template) => {
        const blob = kwpWrap(kekValue, data);
        return { authentic: unwrapCkr(p11, l, session, kwp, kek, blob, template), tampered: unwrapCkr(p11, l, session, kwp, kek, tampered(blob), template) };
      };
      // The PKCS#1 DER (~1,190 bytes) is the long secret, as in the import it stands for.
      const secret = run(pkcs1, hmacTemplate(l));
      const notPkcs8 = run(pkcs1, rsaTemplate);
      const valid = run(pkcs8, rsaTemplate);
      const told = (r: { authentic: number | undefined; tampered: number | undefined }) =>
        r.authentic !== undefined && r.authentic !== l.CKR_OK && r.tampered !== undefined && r.tampered !== r.authentic ? r.authentic : undefined;
      return {
        longSecretUnwraps: secret.authentic === l.CKR_OK,
        authenticOversizeCkr: told(secret),
        rsaNotPkcs8Ckr: valid.authentic === l.CKR_OK && valid.tampered !== l.CKR_OK ? told(notPkcs8) : undefined,
      };
    });
  } catch {
    // The probe could not run (no session objects, no AES import): no verdicts, the strict path.
    return NO_VERDICTS;
  } finally {
    kekValue.fill(0);
  }
}
