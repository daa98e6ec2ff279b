/**
 * What the backend asks the device for: the attribute templates of every object it makes and
 * the mechanism parameters it passes. Secrets default to sensitive and non-extractable, with
 * only the uses they need (unlike node-webcrypto-p11's defaults).
 */
import type * as Pkcs11Js from 'pkcs11js';
import { MATERIAL_SPECS, type MaterialSpec, type PrivateKeyInfo } from '../../algorithms/specs.js';
import type { Pkcs11Lib } from './pkcs11js.js';

type SecretKeyUse = 'encrypt' | 'decrypt' | 'sign' | 'verify' | 'wrap' | 'unwrap';

/**
 * A sensitive, non-extractable, private session secret key of `keyType` allowed exactly `uses`
 * (every other use of the six is set false, not left to the device's default).
 */
function secretKeyTemplate(l: Pkcs11Lib, keyType: number, uses: readonly SecretKeyUse[], extra: Pkcs11Js.Template = []): Pkcs11Js.Template {
  const attribute: Record<SecretKeyUse, number> = {
    encrypt: l.CKA_ENCRYPT, decrypt: l.CKA_DECRYPT, sign: l.CKA_SIGN, verify: l.CKA_VERIFY, wrap: l.CKA_WRAP, unwrap: l.CKA_UNWRAP,
  };
  return [
    { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: keyType },
    { type: l.CKA_TOKEN, value: false }, { type: l.CKA_PRIVATE, value: true },
    { type: l.CKA_SENSITIVE, value: true }, { type: l.CKA_EXTRACTABLE, value: false },
    ...(Object.keys(attribute) as SecretKeyUse[]).map((use) => ({ type: attribute[use], value: uses.includes(use) })),
    { type: l.CKA_DERIVE, value: false },
    ...extra,
  ];
}

/**
 * CKA_ALLOWED_MECHANISMS (PKCS#11 2.40 §4.8): a CK_MECHANISM_TYPE array, passed as the raw
 * CK_ULONG array pkcs11js hands to the device (8 bytes each on LP64 Linux).
 */
export function allowedMechanismsAttribute(l: Pkcs11Lib, mechanisms: readonly number[]): Pkcs11Js.Attribute {
  const value = Buffer.alloc(8 * mechanisms.length);
  mechanisms.forEach((m, i) => value.writeBigUInt64LE(BigInt(m), 8 * i));
  return { type: l.CKA_ALLOWED_MECHANISMS, value };
}

/** An imported HMAC key: a generic secret that only signs and verifies. */
export function hmacTemplate(l: Pkcs11Lib, extra: Pkcs11Js.Template = []): Pkcs11Js.Template {
  return secretKeyTemplate(l, l.CKK_GENERIC_SECRET, ['sign', 'verify'], extra);
}

/** An imported private key: signs only. */
export function privateKeyTemplate(l: Pkcs11Lib, key: PrivateKeyInfo, extra: Pkcs11Js.Template = []): Pkcs11Js.Template {
  return [
    { type: l.CKA_CLASS, value: l.CKO_PRIVATE_KEY }, { type: l.CKA_KEY_TYPE, value: key.type === 'rsa' ? l.CKK_RSA : l.CKK_EC },
    { type: l.CKA_TOKEN, value: false }, { type: l.CKA_PRIVATE, value: true },
    { type: l.CKA_SENSITIVE, value: true }, { type: l.CKA_EXTRACTABLE, value: false },
    { type: l.CKA_SIGN, value: true }, { type: l.CKA_DECRYPT, value: false }, { type: l.CKA_UNWRAP, value: false },
    // EC: derivation with G is how the public point is learnt; it is switched off right after.
    { type: l.CKA_DERIVE, value: key.type === 'ec' }, { type: l.CKA_SIGN_RECOVER, value: false },
    ...extra,
  ];
}

/** Imported AES material: encrypts, decrypts, and signs (CMAC, for its fingerprint). */
export function materialTemplate(l: Pkcs11Lib, extra: Pkcs11Js.Template = []): Pkcs11Js.Template {
  // No CKA_VALUE_LEN: SoftHSM2 refuses it in unwrap templates (CKR_ATTRIBUTE_READ_ONLY).
  return secretKeyTemplate(l, l.CKK_AES, ['encrypt', 'decrypt', 'sign'], extra);
}

/** The temporary AES-256 key of an envelope import: it unwraps the next layer and nothing else. */
export function temporaryKeyTemplate(l: Pkcs11Lib, extra: Pkcs11Js.Template = []): Pkcs11Js.Template {
  return secretKeyTemplate(l, l.CKK_AES, ['unwrap'], [{ type: l.CKA_COPYABLE, value: false }, ...extra]);
}

/**
 * The template of what an unwrap makes: material of the spec, or a temporary key-unwrapping key;
 * `extra` for the device's policy attributes (CKA_ALLOWED_MECHANISMS).
 */
export function unwrapTemplate(l: Pkcs11Lib, spec: MaterialSpec, temporaryKey: boolean | undefined, extra: Pkcs11Js.Template = []): Pkcs11Js.Template {
  if (MATERIAL_SPECS[spec].kind === 'hmac') return hmacTemplate(l, extra);
  return temporaryKey ? temporaryKeyTemplate(l, extra) : materialTemplate(l, extra);
}

/**
 * What a token copy of material changes (C_CopyObject): a token object found by `id`, never
 * modifiable again (PKCS#11 2.40 §4.4: CKA_MODIFIABLE may go from true to false in a copy), so
 * a PIN holder cannot switch on WRAP or DERIVE; not copyable where the device lets a copy say so.
 */
export function tokenCopyTemplate(l: Pkcs11Lib, id: Buffer, label: string, notCopyable: boolean): Pkcs11Js.Template {
  return [
    { type: l.CKA_TOKEN, value: true }, { type: l.CKA_ID, value: id }, { type: l.CKA_LABEL, value: label },
    { type: l.CKA_MODIFIABLE, value: false },
    ...(notCopyable ? [{ type: l.CKA_COPYABLE, value: false }] : []),
  ];
}

/**
 * A wrapping key pair: the public half is a session object (read once, then destroyed); the
 * private half a token object, found by `id`, that only unwraps — plus raw decryption in the
 * opt-in host-decode mode. The label carries its expiry for the sweeper.
 */
export function wrappingKeyPairTemplates(l: Pkcs11Lib, bits: number, id: Buffer, label: string, hostDecode: boolean, extra: Pkcs11Js.Template = [], notCopyable = true): [Pkcs11Js.Template, Pkcs11Js.Template] {
  return [[
    { type: l.CKA_TOKEN, value: false }, { type: l.CKA_MODULUS_BITS, value: bits },
    { type: l.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) }, { type: l.CKA_ENCRYPT, value: true }, { type: l.CKA_WRAP, value: true },
  ], [
    { type: l.CKA_TOKEN, value: true }, { type: l.CKA_PRIVATE, value: true }, { type: l.CKA_ID, value: id },
    { type: l.CKA_LABEL, value: label },
    { type: l.CKA_SENSITIVE, value: true }, { type: l.CKA_EXTRACTABLE, value: false },
    { type: l.CKA_UNWRAP, value: true },
    { type: l.CKA_DECRYPT, value: hostDecode }, { type: l.CKA_SIGN, value: false },
    // Not the device's defaults: no sign-recover (raw RSA by another name), no derive, and no
    // later change or copy by a PIN holder.
    { type: l.CKA_SIGN_RECOVER, value: false }, { type: l.CKA_DERIVE, value: false },
    { type: l.CKA_MODIFIABLE, value: false }, ...(notCopyable ? [{ type: l.CKA_COPYABLE, value: false }] : []),
    ...extra,
  ]];
}

/**
 * The CKA_UNWRAP_TEMPLATE of a wrapping private key (PKCS#11 2.40 §4.9, §5.13 C_UnwrapKey):
 * whatever it unwraps must be sensitive and non-extractable, whoever asks — a PIN holder too.
 * Every unwrap template of ours (unwrapTemplate) already asks for exactly this, as SoftHSM2
 * requires the caller's template to agree with the key's.
 */
export function forcedUnwrapTemplate(l: Pkcs11Lib): Pkcs11Js.Template {
  return [{ type: l.CKA_SENSITIVE, value: true }, { type: l.CKA_EXTRACTABLE, value: false }];
}

/** CKM_RSA_PKCS_OAEP with MGF1 of the same hash (the only pairs the KMS APIs use). */
export function oaepMechanism(l: Pkcs11Lib, hash: 'sha1' | 'sha256', label?: Uint8Array): Pkcs11Js.Mechanism {
  const parameter: Pkcs11Js.RsaOAEP = {
    type: l.CK_PARAMS_RSA_OAEP,
    hashAlg: hash === 'sha1' ? l.CKM_SHA_1 : l.CKM_SHA256,
    mgf: hash === 'sha1' ? l.CKG_MGF1_SHA1 : l.CKG_MGF1_SHA256,
    source: 1, // CKZ_DATA_SPECIFIED
    ...(label && label.length ? { sourceData: Buffer.from(label) } : {}),
  };
  return { mechanism: l.CKM_RSA_PKCS_OAEP, parameter };
}

/**
 * AES-GCM with a 96-bit IV and a 128-bit tag: the layout both backends share. As
 * CK_GCM_PARAMS of v2.40 (ulIvBits set): pkcs11js fills ulIvBits only for
 * CK_PARAMS_AES_GCM_v240, and leaves it uninitialised for CK_PARAMS_AES_GCM (NSS refuses that).
 */
export function gcmMechanism(l: Pkcs11Lib, iv: Uint8Array, aad?: Uint8Array): Pkcs11Js.Mechanism {
  const parameter: Pkcs11Js.GcmParams = { type: l.CK_PARAMS_AES_GCM_v240, iv: Buffer.from(iv), ivBits: 96, tagBits: 128, ...(aad && aad.length ? { aad: Buffer.from(aad) } : {}) };
  return { mechanism: l.CKM_AES_GCM, parameter };
}

/** The HMAC mechanism of an HMAC spec, or undefined for other specs. */
export function hmacMechanism(l: Pkcs11Lib, spec: MaterialSpec): number | undefined {
  switch (MATERIAL_SPECS[spec].hmacHash) {
    case 'sha224': return l.CKM_SHA224_HMAC;
    case 'sha256': return l.CKM_SHA256_HMAC;
    case 'sha384': return l.CKM_SHA384_HMAC;
    case 'sha512': return l.CKM_SHA512_HMAC;
    default: return undefined;
  }
}
