/**
 * Validation of an imported private key: PKCS#8 DER of the declared key spec, internally
 * consistent, and its public key derived (the SPKI that getPublicKey returns and that re-imports
 * are matched on, as Vault does).
 *
 * Read with the key-structure readers of ../asn1; the checks are the ones an HSM's import would make:
 * - RSA: two-prime RSAPrivateKey, modulus of exactly the spec's size, odd e > 1, p·q = n,
 *   d·e ≡ 1 (mod λ(n)), and the CRT values consistent with d, p, q (a wrong CRT value makes
 *   every signature a Boneh–DeMillo–Lipton fault that leaks the factors).
 * - EC: the spec's named curve, 1 ≤ d < n (OpenSSL's check in node:crypto's ECDH), and an
 *   embedded public key, when present, equal to d·G.
 * A SEC1 "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY" is refused with the conversion command.
 *
 * The RSA checks use BigInt, which is not constant-time. They run once per import, on the
 * customer's key in memory we control; the alternative (no consistency check) is worse.
 */
import { createECDH, ECDH } from 'node:crypto';
import { equalBytes } from '../../bytes.js';
import { ByokError } from '../../errors.js';
import {
  bareKeyFormat, decodeDer, ecSpki, ID_EC_PUBLIC_KEY, readEcPrivateKey, readPrivateKeyInfo, readRsaPrivateKey, RSA_ENCRYPTION, rsaSpki, SM2_CURVE_OID,
} from '../asn1/index.js';
import { MATERIAL_SPECS, type MaterialSpec, type PrivateKeyInfo } from '../specs.js';

const CONVERT = 'openssl pkcs8 -topk8 -nocrypt -in key.pem -outform DER -out key.p8';

function invalid(detail: string): ByokError {
  return new ByokError('INVALID_PRIVATE_KEY', `The private key is not a valid PKCS#8 key of the declared spec: ${detail}`);
}

function bitLength(x: bigint): number {
  return x.toString(2).length;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Name the format a customer sent by mistake, with the command that fixes it. */
function refuseOtherFormats(der: Uint8Array): never {
  if (!decodeDer(der)) throw invalid('not DER.');
  const format = bareKeyFormat(der);
  if (format === 'pkcs1') throw invalid(`this is a PKCS#1 RSAPrivateKey ("RSA PRIVATE KEY"); import wants PKCS#8. Convert it: ${CONVERT}`);
  if (format === 'sec1') throw invalid(`this is a SEC1 ECPrivateKey ("EC PRIVATE KEY"); import wants PKCS#8. Convert it: ${CONVERT}`);
  throw invalid('not a PKCS#8 PrivateKeyInfo.');
}

function validateRsa(inner: Uint8Array, bits: number): Uint8Array {
  const key = readRsaPrivateKey(inner);
  if (!key) throw invalid('not a two-prime RSAPrivateKey of non-negative INTEGERs.');
  const { n, e, d, p, q, dp, dq, qi: qinv } = key;
  if (bitLength(n) !== bits) throw invalid(`the modulus has ${bitLength(n)} bits, the key spec needs ${bits}.`);
  if (e <= 1n || (e & 1n) === 0n || e >= n) throw invalid('the public exponent must be odd and greater than 1.');
  if (p <= 1n || q <= 1n || p * q !== n) throw invalid('p·q is not the modulus.');
  const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  if (d <= 0n || d >= n || (d * e) % lambda !== 1n) throw invalid('d·e is not 1 modulo λ(n).');
  if (dp !== d % (p - 1n) || dq !== d % (q - 1n) || (q * qinv) % p !== 1n) throw invalid('the CRT values do not match d, p and q.');
  return rsaSpki(n, e);
}

function validateEc(inner: Uint8Array, info: Extract<PrivateKeyInfo, { type: 'ec' }>): Uint8Array {
  const key = readEcPrivateKey(inner);
  if (!key) throw invalid('not an RFC 5915 ECPrivateKey.');
  const raw = key.privateKey;
  // RFC 5915 says fixed length; some encoders drop leading zeros, which is harmless.
  if (raw.length === 0 || raw.length > info.bytes) throw invalid('the private scalar has the wrong length.');
  const d = new Uint8Array(info.bytes);
  d.set(raw, info.bytes - raw.length);
  let point: Uint8Array;
  try {
    const ecdh = createECDH(info.opensslName);
    ecdh.setPrivateKey(d); // OpenSSL refuses d = 0 and d ≥ n
    point = new Uint8Array(ecdh.getPublicKey(null, 'uncompressed'));
  } catch {
    throw invalid('the private scalar is out of range for the curve.');
  } finally {
    d.fill(0);
    raw.fill(0);
  }
  if (key.curveOid !== undefined && key.curveOid !== info.curveOid) throw invalid('the ECPrivateKey names another curve.');
  if (key.publicKey !== undefined) {
    let embedded = key.publicKey;
    if (embedded[0] === 0x02 || embedded[0] === 0x03) {
      try {
        embedded = new Uint8Array(ECDH.convertKey(embedded, info.opensslName, undefined, undefined, 'uncompressed') as Buffer);
      } catch {
        throw invalid('the embedded public key is not a point on the curve.');
      }
    }
    if (!equalBytes(embedded, point)) throw invalid('the embedded public key does not match the private scalar.');
  }
  return ecSpki(info.curveOid, point);
}

/**
 * Check `der` (a PKCS#8 PrivateKeyInfo) against `spec` and return the DER SubjectPublicKeyInfo
 * of its public key. Every problem is INVALID_PRIVATE_KEY with a message that names it.
 */
export function validatePrivateKey(der: Uint8Array, spec: MaterialSpec): Uint8Array {
  const info = MATERIAL_SPECS[spec].privateKey;
  if (!info) throw new ByokError('INVALID_PARAMETER', `${spec} is not an asymmetric key spec.`);
  if (der.length > 0 && der[0] === 0x2d /* '-' */) throw invalid(`this is PEM text; send the DER bytes (${CONVERT}).`);
  const pkcs8 = readPrivateKeyInfo(der);
  if (!pkcs8) refuseOtherFormats(der);
  const { algorithm: oid, parameters, parametersOid } = pkcs8;
  try {
    if (oid === RSA_ENCRYPTION) {
      if (info.type !== 'rsa') throw invalid(`an RSA key was sent for a ${spec} key.`);
      if (parameters !== 'absent' && parameters !== 'null') throw invalid('rsaEncryption takes NULL parameters.');
      return validateRsa(pkcs8.privateKey, info.bits);
    }
    if (oid === ID_EC_PUBLIC_KEY || oid === SM2_CURVE_OID) {
      if (info.type !== 'ec') throw invalid(`an EC key was sent for a ${spec} key.`);
      // OpenSSL 1.1.1 writes SM2 keys with the SM2 OID as the algorithm and no parameters.
      const curve = parametersOid ?? (oid === SM2_CURVE_OID ? SM2_CURVE_OID : undefined);
      if (curve !== info.curveOid) throw invalid(`the key is on curve ${curve ?? '(explicit parameters)'}, the key spec ${spec} needs ${info.curveOid}.`);
      return validateEc(pkcs8.privateKey, info);
    }
    throw invalid(`unsupported key algorithm ${oid}.`);
  } finally {
    pkcs8.privateKey.fill(0);
  }
}
