/**
 * Validation of an imported private key: PKCS#8 DER of the declared key spec, internally
 * consistent, and its public key derived (the SPKI that getPublicKey returns and that re-imports
 * are matched on, as Vault does).
 *
 * Parsed with asn1js; the checks are the ones an HSM's import would make:
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
import { createECDH, createPublicKey, ECDH } from 'node:crypto';
import * as asn1js from 'asn1js';
import { equalBytes } from '../../bytes.js';
import { ByokError } from '../../errors.js';
import { MATERIAL_SPECS, type MaterialSpec, type PrivateKeyInfo } from '../specs.js';

const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const ID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const SM2_OID = '1.2.156.10197.1.301';
const CONVERT = 'openssl pkcs8 -topk8 -nocrypt -in key.pem -outform DER -out key.p8';

function invalid(detail: string): ByokError {
  return new ByokError('INVALID_PRIVATE_KEY', `The private key is not a valid PKCS#8 key of the declared spec: ${detail}`);
}

function parseDer(der: Uint8Array): asn1js.AsnType {
  let parsed: ReturnType<typeof asn1js.fromBER>;
  try {
    parsed = asn1js.fromBER(der);
  } catch {
    // asn1js throws (rather than reporting) on some malformed values, e.g. a GeneralizedTime.
    throw invalid('not DER.');
  }
  // Exactly one DER value, nothing after it.
  if (parsed.offset !== der.length || parsed.result.error) throw invalid('not DER.');
  return parsed.result;
}

function unsignedInt(node: unknown, what: string): bigint {
  if (!(node instanceof asn1js.Integer)) throw invalid(`${what} is not an INTEGER.`);
  const bytes = node.valueBlock.valueHexView;
  if (bytes.length === 0 || (bytes[0] & 0x80) !== 0) throw invalid(`${what} is negative.`);
  return BigInt('0x' + Buffer.from(bytes).toString('hex'));
}

function smallInt(node: unknown): number | undefined {
  return node instanceof asn1js.Integer ? node.valueBlock.valueDec : undefined;
}

function bitLength(x: bigint): number {
  return x.toString(2).length;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b) [a, b] = [b, a % b];
  return a;
}

function toB64Url(x: bigint): string {
  let hex = x.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return Buffer.from(hex, 'hex').toString('base64url');
}

/** SubjectPublicKeyInfo of an RSA public key (OpenSSL's encoding, via a JWK import). */
export function rsaSpki(n: bigint, e: bigint): Uint8Array {
  return new Uint8Array(createPublicKey({ key: { kty: 'RSA', n: toB64Url(n), e: toB64Url(e) }, format: 'jwk' }).export({ type: 'spki', format: 'der' }));
}

/** Name the format a customer sent by mistake, with the command that fixes it. */
function refuseOtherFormats(root: asn1js.AsnType): never {
  const items = root instanceof asn1js.Sequence ? root.valueBlock.value : [];
  if (items.length >= 9 && items.every((i) => i instanceof asn1js.Integer) && smallInt(items[0]) === 0) {
    throw invalid(`this is a PKCS#1 RSAPrivateKey ("RSA PRIVATE KEY"); import wants PKCS#8. Convert it: ${CONVERT}`);
  }
  if (items.length >= 2 && smallInt(items[0]) === 1 && items[1] instanceof asn1js.OctetString) {
    throw invalid(`this is a SEC1 ECPrivateKey ("EC PRIVATE KEY"); import wants PKCS#8. Convert it: ${CONVERT}`);
  }
  throw invalid('not a PKCS#8 PrivateKeyInfo.');
}

function validateRsa(inner: Uint8Array, bits: number): Uint8Array {
  const root = parseDer(inner);
  const v = root instanceof asn1js.Sequence ? root.valueBlock.value : [];
  if (v.length !== 9 || smallInt(v[0]) !== 0) throw invalid('not a two-prime RSAPrivateKey.');
  const [n, e, d, p, q, dp, dq, qinv] = v.slice(1).map((x, i) => unsignedInt(x, ['n', 'e', 'd', 'p', 'q', 'dP', 'dQ', 'qInv'][i]));
  if (bitLength(n) !== bits) throw invalid(`the modulus has ${bitLength(n)} bits, the key spec needs ${bits}.`);
  if (e <= 1n || (e & 1n) === 0n || e >= n) throw invalid('the public exponent must be odd and greater than 1.');
  if (p <= 1n || q <= 1n || p * q !== n) throw invalid('p·q is not the modulus.');
  const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  if (d <= 0n || d >= n || (d * e) % lambda !== 1n) throw invalid('d·e is not 1 modulo λ(n).');
  if (dp !== d % (p - 1n) || dq !== d % (q - 1n) || (q * qinv) % p !== 1n) throw invalid('the CRT values do not match d, p and q.');
  return rsaSpki(n, e);
}

/** SubjectPublicKeyInfo for a point on a named curve (id-ecPublicKey, as OpenSSL writes it, SM2 too). */
export function ecSpki(curveOid: string, point: Uint8Array): Uint8Array {
  const spki = new asn1js.Sequence({
    value: [
      new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: ID_EC_PUBLIC_KEY }), new asn1js.ObjectIdentifier({ value: curveOid })] }),
      new asn1js.BitString({ valueHex: point }),
    ],
  });
  return new Uint8Array(spki.toBER(false));
}

function validateEc(inner: Uint8Array, info: Extract<PrivateKeyInfo, { type: 'ec' }>): Uint8Array {
  const root = parseDer(inner);
  const v = root instanceof asn1js.Sequence ? root.valueBlock.value : [];
  if (v.length < 2 || smallInt(v[0]) !== 1 || !(v[1] instanceof asn1js.OctetString)) throw invalid('not an RFC 5915 ECPrivateKey.');
  const raw = v[1].valueBlock.valueHexView;
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
  }
  for (const extra of v.slice(2)) {
    const tag = extra.idBlock.tagNumber;
    const content = extra instanceof asn1js.Constructed ? extra.valueBlock.value[0] : undefined;
    if (extra.idBlock.tagClass === 3 && tag === 0) {
      if (!(content instanceof asn1js.ObjectIdentifier) || content.valueBlock.toString() !== info.curveOid) throw invalid('the ECPrivateKey names another curve.');
    } else if (extra.idBlock.tagClass === 3 && tag === 1) {
      if (!(content instanceof asn1js.BitString)) throw invalid('the embedded public key is not a BIT STRING.');
      let embedded = content.valueBlock.valueHexView;
      if (embedded[0] === 0x02 || embedded[0] === 0x03) {
        try {
          embedded = new Uint8Array(ECDH.convertKey(embedded, info.opensslName, undefined, undefined, 'uncompressed') as Buffer);
        } catch {
          throw invalid('the embedded public key is not a point on the curve.');
        }
      }
      if (!equalBytes(embedded, point)) throw invalid('the embedded public key does not match the private scalar.');
    } else {
      throw invalid('unexpected field in the ECPrivateKey.');
    }
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
  const root = parseDer(der);
  const v = root instanceof asn1js.Sequence ? root.valueBlock.value : [];
  const version = smallInt(v[0]);
  const algorithm = v[1] instanceof asn1js.Sequence ? v[1].valueBlock.value : undefined;
  if (v.length < 3 || (version !== 0 && version !== 1) || !algorithm || !(algorithm[0] instanceof asn1js.ObjectIdentifier) || !(v[2] instanceof asn1js.OctetString)) {
    refuseOtherFormats(root);
  }
  const oid = (algorithm![0] as asn1js.ObjectIdentifier).valueBlock.toString();
  const params = algorithm![1];
  const inner = (v[2] as asn1js.OctetString).valueBlock.valueHexView;
  if (oid === RSA_ENCRYPTION) {
    if (info.type !== 'rsa') throw invalid(`an RSA key was sent for a ${spec} key.`);
    if (params !== undefined && !(params instanceof asn1js.Null)) throw invalid('rsaEncryption takes NULL parameters.');
    return validateRsa(inner, info.bits);
  }
  if (oid === ID_EC_PUBLIC_KEY || oid === SM2_OID) {
    if (info.type !== 'ec') throw invalid(`an EC key was sent for a ${spec} key.`);
    // OpenSSL 1.1.1 writes SM2 keys with the SM2 OID as the algorithm and no parameters.
    const curve = params instanceof asn1js.ObjectIdentifier ? params.valueBlock.toString() : oid === SM2_OID ? SM2_OID : undefined;
    if (curve !== info.curveOid) throw invalid(`the key is on curve ${curve ?? '(explicit parameters)'}, the key spec ${spec} needs ${info.curveOid}.`);
    return validateEc(inner, info);
  }
  throw invalid(`unsupported key algorithm ${oid}.`);
}
