/**
 * Known-answer operations on a PKCS#11 device, apart from the production backend: the vectors'
 * own keys are imported as session objects and used with the mechanisms the import path uses
 * (and, in the opt-in host-decode mode, the same TypeScript decoders).
 */
import type * as Pkcs11Js from 'pkcs11js';
import { readPrivateKeyInfo, readRsaPrivateKey, RSA_ENCRYPTION } from '../../algorithms/asn1/index.js';
import { oaepDecode } from '../../algorithms/rsa/oaep-decode.js';
import { pkcs1v15Decode } from '../../algorithms/rsa/pkcs1v15-decode.js';
import { bigIntToBytes } from '../../bytes.js';
import { ByokError, decryptMaterialFailed } from '../../errors.js';
import type { KatOperations, RsaesKatParams } from '../kat-operations.js';
import { NO_SM2, type Pkcs11Capabilities } from './capabilities.js';
import type { Pkcs11Device } from './device.js';
import { openPkcs11Device, type Pkcs11BackendOptions } from './options.js';
import type { Handle } from './pkcs11js.js';
import { oaepMechanism } from './templates.js';

/** The known-answer operations on a PKCS#11 device (for `byok kat --backend pkcs11`): apart from the production backend. */
export async function pkcs11KatOperations(options: Pkcs11BackendOptions): Promise<KatOperations> {
  const { device, capabilities } = await openPkcs11Device(options);
  return {
    rsaesDecrypt: (pkcs8, params, ciphertext) => rsaesDecrypt(device, capabilities, pkcs8, params, ciphertext),
    aesKwpUnwrap: (kek, wrapped) => kwpUnwrap(device, capabilities, kek, wrapped),
    sm2Decrypt: async () => {
      throw new ByokError('ALGORITHM_UNSUPPORTED', NO_SM2);
    },
    close: async () => device.close(),
  };
}

async function rsaesDecrypt(device: Pkcs11Device, capabilities: Pkcs11Capabilities, pkcs8: Uint8Array, params: RsaesKatParams, ciphertext: Uint8Array): Promise<Uint8Array> {
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
    // The KMS never uses OAEP labels; SoftHSM2 accepts one at C_DecryptInit but then fails
    // every decryption, so labelled cases are declared unsupported on the device path.
    const deviceCan = hash === mgf && params.label.length === 0 && (hash === 'sha1' || (hash === 'sha256' && capabilities.oaepSha256));
    if (deviceCan) mechanism = oaepMechanism(l, hash as 'sha1' | 'sha256', params.label);
    else if (capabilities.hostDecode) {
      mechanism = { mechanism: l.CKM_RSA_X_509 };
      hostDecode = true;
    } else {
      throw new ByokError('ALGORITHM_UNSUPPORTED', `device OAEP takes ${capabilities.oaepSha256 ? 'SHA-1 and SHA-256' : 'SHA-1'} with the same MGF1 hash and an empty label only`);
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
    try {
      try {
        // Test vectors only: the unwrapped value is made readable so it can be compared.
        out = p11.C_UnwrapKey(session, { mechanism: kwp }, kekObj, Buffer.from(wrapped), [
          { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_GENERIC_SECRET }, { type: l.CKA_TOKEN, value: false },
          { type: l.CKA_SENSITIVE, value: false }, { type: l.CKA_EXTRACTABLE, value: true },
        ]);
      } catch {
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
