/** ECDSA-Sig-Value (RFC 5480 §2.2, RFC 3279 §2.2.3): SEQUENCE { r INTEGER, s INTEGER }. */
import * as asn1js from 'asn1js';
import { bytesToBigInt } from '../../bytes.js';
import { unsignedIntegerNode } from './der.js';

/** Raw r ‖ s (PKCS#11's and WebCrypto's ECDSA output) → DER, as OpenSSL and the KMS APIs use. */
export function ecdsaSignatureDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  const int = (b: Uint8Array) => unsignedIntegerNode(bytesToBigInt(b));
  return new Uint8Array(new asn1js.Sequence({ value: [int(raw.subarray(0, half)), int(raw.subarray(half))] }).toBER(false));
}
