/**
 * Known-answer operations on a PKCS#11 device, apart from the production backend: the vectors'
 * own keys are imported as session objects and used with the mechanisms the import path uses
 * (and, in the opt-in host-decode mode, the same TypeScript decoders).
 */
import { randomBytes } from 'node:crypto';
import type * as Pkcs11Js from 'pkcs11js';
import { aesKwpWrap } from '../../algorithms/aes-kwp.js';
import { readPrivateKeyInfo, readRsaPrivateKey, RSA_ENCRYPTION } from '../../algorithms/asn1/index.js';
import { oaepDecode } from '../../algorithms/rsa/oaep-decode.js';
import { pkcs1v15Decode } from '../../algorithms/rsa/pkcs1v15-decode.js';
import { bigIntToBytes } from '../../bytes.js';
import { ByokError, decryptMaterialFailed } from '../../errors.js';
import type { KatOperations, RsaesKatParams } from '../kat-operations.js';
import { NO_SM2, type Pkcs11Capabilities } from './capabilities.js';
import { describeCkr } from './ckr.js';
import type { Pkcs11Device } from './device.js';
import { openPkcs11Device, type Pkcs11BackendOptions } from './options.js';
import type { Handle } from './pkcs11js.js';
import { oaepMechanism } from './templates.js';

/** The known-answer operations on a PKCS#11 device (for `byok kat --backend pkcs11`): apart from the production backend. */
export async function pkcs11KatOperations(options: Pkcs11BackendOptions): Promise<KatOperations> {
  const { device, capabilities } = await openPkcs11Device(options);
  let labels: Promise<boolean> | undefined;
  return {
    rsaesDecrypt: async (pkcs8, params, ciphertext) => {
      const oaepLabels = params.padding === 'oaep' ? await (labels ??= oaepLabelsRoundTrip(device)) : false;
      return rsaesDecrypt(device, capabilities, pkcs8, params, ciphertext, oaepLabels);
    },
    aesKwpUnwrap: (kek, wrapped) => kwpUnwrap(device, capabilities, kek, wrapped),
    sm2Decrypt: async () => {
      throw new ByokError('ALGORITHM_UNSUPPORTED', NO_SM2);
    },
    close: async () => device.close(),
  };
}

/**
 * Does OAEP with a label (RFC 8017 §7.1: the encoding parameter) round-trip on this device? The
 * KMS never uses labels; SoftHSM2 2.6.1 takes one at C_DecryptInit and then fails every
 * decryption. Asked once, with a throw-away key pair, so labelled vectors run wherever they can.
 */
async function oaepLabelsRoundTrip(device: Pkcs11Device): Promise<boolean> {
  const { lib: l, p11 } = device;
  return device.withSession(async (session) => {
    const mechanism = oaepMechanism(l, 'sha1', new TextEncoder().encode('byok label probe'));
    let pair: Pkcs11Js.KeyPair | undefined;
    try {
      pair = p11.C_GenerateKeyPair(session, { mechanism: l.CKM_RSA_PKCS_KEY_PAIR_GEN }, [
        { type: l.CKA_TOKEN, value: false }, { type: l.CKA_MODULUS_BITS, value: 1024 }, { type: l.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) }, { type: l.CKA_ENCRYPT, value: true },
      ], [{ type: l.CKA_TOKEN, value: false }, { type: l.CKA_DECRYPT, value: true }]);
      const message = randomBytes(16);
      p11.C_EncryptInit(session, mechanism, pair.publicKey);
      const ciphertext = p11.C_Encrypt(session, message, Buffer.alloc(128));
      p11.C_DecryptInit(session, mechanism, pair.privateKey);
      return p11.C_Decrypt(session, ciphertext, Buffer.alloc(128)).equals(message);
    } catch {
      return false;
    } finally {
      for (const key of pair ? [pair.publicKey, pair.privateKey] : []) p11.C_DestroyObject(session, key);
    }
  }, 'Probing OAEP labels');
}

async function rsaesDecrypt(device: Pkcs11Device, capabilities: Pkcs11Capabilities, pkcs8: Uint8Array, params: RsaesKatParams, ciphertext: Uint8Array, oaepLabels: boolean): Promise<Uint8Array> {
  const { lib: l, p11 } = device;
  let mechanism: Pkcs11Js.Mechanism;
  let hostDecode = false;
  if (params.padding === 'pkcs1v15') {
    if (capabilities.pkcs1v15RefusesBadPadding) mechanism = { mechanism: l.CKM_RSA_PKCS };
    else if (capabilities.hostDecode) {
      mechanism = { mechanism: l.CKM_RSA_X_509 };
      hostDecode = true;
    } else {
      // Implicit rejection (NSS): an invalid case decrypts to a random message, by design.
      throw new ByokError('ALGORITHM_UNSUPPORTED', 'device PKCS#1 v1.5 answers bad padding with a random message (implicit rejection)');
    }
  } else {
    const hash = params.hash.toLowerCase().replace('-', '');
    const mgf = params.mgf1Hash.toLowerCase().replace('-', '');
    // Labelled cases run where a labelled round trip works on the device (oaepLabelsRoundTrip).
    const deviceCan = hash === mgf && (params.label.length === 0 || oaepLabels) && (hash === 'sha1' || (hash === 'sha256' && capabilities.oaepSha256));
    if (deviceCan) mechanism = oaepMechanism(l, hash as 'sha1' | 'sha256', params.label);
    else if (capabilities.hostDecode) {
      mechanism = { mechanism: l.CKM_RSA_X_509 };
      hostDecode = true;
    } else {
      throw new ByokError('ALGORITHM_UNSUPPORTED', `device OAEP takes ${capabilities.oaepSha256 ? 'SHA-1 and SHA-256' : 'SHA-1'} with the same MGF1 hash${oaepLabels ? '' : ' and an empty label only'}`);
    }
  }
  const rsa = parseRsaPkcs8(pkcs8);
  const k = rsa.n.length;
  return device.withSession(async (session) => {
    const key = p11.C_CreateObject(session, [
      { type: l.CKA_CLASS, value: l.CKO_PRIVATE_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_RSA }, { type: l.CKA_TOKEN, value: false },
      { type: l.CKA_SENSITIVE, value: true }, { type: l.CKA_DECRYPT, value: true },
      { type: l.CKA_MODULUS, value: rsa.n }, { type: l.CKA_PUBLIC_EXPONENT, value: rsa.e }, { type: l.CKA_PRIVATE_EXPONENT, value: rsa.d },
      { type: l.CKA_PRIME_1, value: rsa.p }, { type: l.CKA_PRIME_2, value: rsa.q }, { type: l.CKA_EXPONENT_1, value: rsa.dp },
      { type: l.CKA_EXPONENT_2, value: rsa.dq }, { type: l.CKA_COEFFICIENT, value: rsa.qi },
    ]);
    try {
      try {
        p11.C_DecryptInit(session, mechanism, key);
      } catch {
        // The device refused the parameters themselves (e.g. a label): unsupported, not a failure.
        throw new ByokError('ALGORITHM_UNSUPPORTED', 'the device refused these OAEP parameters');
      }
      let out: Buffer;
      try {
        out = p11.C_Decrypt(session, Buffer.from(ciphertext), Buffer.alloc(k));
      } catch {
        throw decryptMaterialFailed();
      }
      if (!hostDecode && params.padding === 'pkcs1v15') implicitRejectionCheck(device, session, key, ciphertext, k, out);
      if (!hostDecode) return new Uint8Array(out);
      if (ciphertext.length !== k) throw decryptMaterialFailed();
      const em = new Uint8Array(k);
      em.set(out, k - out.length);
      return params.padding === 'oaep' ? oaepDecode(em, k, { hash: params.hash, mgf1Hash: params.mgf1Hash, label: params.label }) : pkcs1v15Decode(em, k);
    } finally {
      p11.C_DestroyObject(session, key);
    }
  }, 'A known-answer RSA decryption');
}

/**
 * A device that answers bad PKCS#1 v1.5 padding with a synthetic plaintext (implicit rejection,
 * the Marvin countermeasure: NSS softoken does) turns an invalid vector into a plaintext the
 * vector cannot check. When the raw block (CKM_RSA_X_509) does not decode and the device gives
 * the same plaintext twice, the case is skipped with that reason instead of counted as accepted.
 */
function implicitRejectionCheck(device: Pkcs11Device, session: Handle, key: Handle, ciphertext: Uint8Array, k: number, out: Buffer): void {
  const { lib: l, p11 } = device;
  let raw: Buffer | undefined;
  try {
    p11.C_DecryptInit(session, { mechanism: l.CKM_RSA_X_509 }, key);
    raw = p11.C_Decrypt(session, Buffer.from(ciphertext), Buffer.alloc(k));
  } catch { /* no raw block (e.g. c >= n): invalid, yet the device answered */ }
  if (raw) {
    const em = new Uint8Array(k);
    em.set(raw, k - raw.length);
    try {
      pkcs1v15Decode(em, k);
      return;
    } catch { /* the padding is bad, yet the device answered */ }
  }
  p11.C_DecryptInit(session, { mechanism: l.CKM_RSA_PKCS }, key);
  const again = p11.C_Decrypt(session, Buffer.from(ciphertext), Buffer.alloc(k));
  if (again.equals(out)) {
    throw new ByokError('ALGORITHM_UNSUPPORTED', 'the device answers bad PKCS#1 v1.5 padding with a synthetic plaintext (implicit rejection): the rejection cannot be observed');
  }
}

async function kwpUnwrap(device: Pkcs11Device, capabilities: Pkcs11Capabilities, kek: Uint8Array, wrapped: Uint8Array): Promise<Uint8Array> {
  const { lib: l, p11 } = device;
  const kwp = capabilities.kwp;
  if (kwp === undefined) throw new ByokError('ALGORITHM_UNSUPPORTED', `the device has no AES key wrap with padding: ${capabilities.kwpReason}`);
  if (![16, 24, 32].includes(kek.length)) throw decryptMaterialFailed();
  return device.withSession(async (session) => {
    const kekObj = p11.C_CreateObject(session, [
      { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_AES }, { type: l.CKA_TOKEN, value: false },
      { type: l.CKA_VALUE, value: Buffer.from(kek) }, { type: l.CKA_UNWRAP, value: true },
    ]);
    let out: Handle | undefined;
    // Test vectors only: the unwrapped value is made readable so it can be compared.
    const readable: Pkcs11Js.Template = [
      { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_GENERIC_SECRET }, { type: l.CKA_TOKEN, value: false },
      { type: l.CKA_SENSITIVE, value: false }, { type: l.CKA_EXTRACTABLE, value: true },
    ];
    try {
      try {
        out = p11.C_UnwrapKey(session, { mechanism: kwp }, kekObj, Buffer.from(wrapped), readable);
      } catch {
        // RFC 5649 §3: the plaintext is at most 8 bytes shorter than the wrap.
        if (wrapped.length > 16) unwrapSizeCheck(device, session, kwp, kek, kekObj, wrapped.length - 8, readable);
        throw decryptMaterialFailed();
      }
      const [value] = p11.C_GetAttributeValue(session, out, [{ type: l.CKA_VALUE }]);
      return new Uint8Array(value.value ?? []);
    } finally {
      if (out) p11.C_DestroyObject(session, out);
      p11.C_DestroyObject(session, kekObj);
    }
  }, 'A known-answer key unwrap');
}

/**
 * The KAT unwraps into a readable generic secret; a device may cap what it unwraps (NSS softoken:
 * 256 bytes, CKR_TEMPLATE_INCONSISTENT). A control — a random secret of the same length wrapped
 * here under the same KEK — tells the cap from a rejected wrap: if the control fails too, the case
 * is unsupported on this device.
 */
function unwrapSizeCheck(device: Pkcs11Device, session: Handle, kwp: number, kek: Uint8Array, kekObj: Handle, length: number, template: Pkcs11Js.Template): void {
  const { lib: l, p11 } = device;
  const control = new Uint8Array(randomBytes(length));
  let object: Handle;
  try {
    object = p11.C_UnwrapKey(session, { mechanism: kwp }, kekObj, Buffer.from(aesKwpWrap(kek, control)), template);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new ByokError('ALGORITHM_UNSUPPORTED', `the device does not unwrap a ${length}-byte secret (${typeof code === 'number' ? describeCkr(l, code) : 'refused'})`);
  }
  p11.C_DestroyObject(session, object);
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
