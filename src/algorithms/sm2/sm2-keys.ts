/**
 * SM2 wrapping keys: generation (node:crypto, OpenSSL's SM2 curve) and parsing of PKCS#8 into
 * the scalar d. The SPKI node exports is id-ecPublicKey with curve OID 1.2.156.10197.1.301,
 * which `openssl pkey -pubin -inform DER` reads.
 */
import { createECDH, generateKeyPair, type ECDH } from 'node:crypto';
import { promisify } from 'node:util';
import * as asn1js from 'asn1js';
import { ByokError } from '../../errors.js';
import { SM2_CURVE_OID, SM2P256V1, type Sm2CurveParams } from './curve.js';

const generateKeyPairAsync = promisify(generateKeyPair);
const ID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';

export interface Sm2PrivateKey {
  readonly curve: Sm2CurveParams;
  /** The scalar d, 32 bytes big-endian (secret; zeroize when dropped). */
  readonly d: Uint8Array;
  /** OpenSSL ECDH context holding d, for sm2p256v1 only (the fast scalar multiplication). */
  readonly ecdh?: ECDH;
}

export async function generateSm2KeyPair(): Promise<{ publicKeySpki: Uint8Array; privateKeyPkcs8: Uint8Array }> {
  const { publicKey, privateKey } = await generateKeyPairAsync('ec', {
    namedCurve: 'SM2',
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  return { publicKeySpki: new Uint8Array(publicKey), privateKeyPkcs8: new Uint8Array(privateKey) };
}

export function sm2PrivateKeyFromScalar(d: Uint8Array, curve: Sm2CurveParams = SM2P256V1): Sm2PrivateKey {
  const scalar = BigInt('0x' + (Buffer.from(d).toString('hex') || '0'));
  if (d.length > 32 || scalar < 1n || scalar >= curve.n) throw new ByokError('INVALID_PARAMETER', 'SM2 private key out of range.');
  const d32 = new Uint8Array(32);
  d32.set(d, 32 - d.length);
  if (curve !== SM2P256V1) return { curve, d: d32 };
  const ecdh = createECDH('SM2');
  ecdh.setPrivateKey(Buffer.from(d32));
  return { curve, d: d32, ecdh };
}

function der(bytes: Uint8Array): asn1js.AsnType {
  const parsed = asn1js.fromBER(bytes);
  if (parsed.offset === -1 || parsed.offset !== bytes.length) throw new Error('bad DER');
  return parsed.result;
}

/** PKCS#8 (RFC 5208) with an SEC1 ECPrivateKey (RFC 5915) on the SM2 curve → d. */
export function parseSm2PrivateKey(pkcs8: Uint8Array): Sm2PrivateKey {
  try {
    const info = der(pkcs8) as asn1js.Sequence;
    const [, algorithm, privateKey] = info.valueBlock.value as [asn1js.Integer, asn1js.Sequence, asn1js.OctetString];
    const [algOid, curveOid] = algorithm.valueBlock.value as [asn1js.ObjectIdentifier, asn1js.ObjectIdentifier];
    if (algOid.valueBlock.toString() !== ID_EC_PUBLIC_KEY || curveOid.valueBlock.toString() !== SM2_CURVE_OID) throw new Error('not SM2');
    const ecPrivateKey = der(new Uint8Array(privateKey.valueBlock.valueHexView)) as asn1js.Sequence;
    const scalar = (ecPrivateKey.valueBlock.value[1] as asn1js.OctetString).valueBlock.valueHexView;
    return sm2PrivateKeyFromScalar(new Uint8Array(scalar));
  } catch {
    throw new ByokError('INTERNAL_ERROR', 'SM2 wrapping key could not be parsed.');
  }
}
