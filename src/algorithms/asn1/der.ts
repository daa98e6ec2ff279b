/**
 * The one guarded way into asn1js for everything this library reads: key structures (SPKI,
 * PKCS#8, RSAPrivateKey, ECPrivateKey) and the GM/T 0009 SM2 ciphertext.
 *
 * asn1js and pkijs (PeculiarVentures, also behind webcrypto-core and node-webcrypto-p11) are the
 * well-kept TypeScript home of these structures; pkijs publishes their schemas as the RFCs
 * define them. Two of their habits are handled here, once: asn1js throws (instead of reporting)
 * on some malformed bodies, e.g. a GeneralizedTime "zz", and `compareSchema` ignores elements
 * after the last one a schema names, so callers count elements themselves.
 */
import * as asn1js from 'asn1js';
import { bigIntToBytes, bytesToBigInt, concatBytes } from '../../bytes.js';

/** The single BER value that is all of `bytes`, or undefined (not BER, trailing data, an asn1js throw). */
export function decodeDer(bytes: Uint8Array): asn1js.AsnType | undefined {
  let parsed: ReturnType<typeof asn1js.fromBER>;
  try {
    parsed = asn1js.fromBER(bytes);
  } catch {
    return undefined;
  }
  if (parsed.offset === -1 || parsed.offset !== bytes.length || parsed.result.error) return undefined;
  return parsed.result;
}

/** Named nodes of `node` matched against an asn1js/pkijs schema (tags exact), or undefined. */
export function matchSchema(node: asn1js.AsnType, schema: asn1js.AsnType): Record<string, asn1js.AsnType> | undefined {
  try {
    const match = asn1js.compareSchema({} as asn1js.AsnType, node, schema);
    return match.verified ? (match.result as Record<string, asn1js.AsnType>) : undefined;
  } catch {
    return undefined;
  }
}

/** The elements of a SEQUENCE (or of an explicitly tagged field), else empty. */
export function elements(node: asn1js.AsnType | undefined): asn1js.AsnType[] {
  return node instanceof asn1js.Constructed ? node.valueBlock.value : [];
}

/** INTEGER contents (two's complement) → BigInt if ≥ 0, else undefined (X.690 §8.3). */
export function unsignedInteger(node: asn1js.AsnType | undefined): bigint | undefined {
  if (!(node instanceof asn1js.Integer)) return undefined;
  const bytes = node.valueBlock.valueHexView;
  if (bytes.length === 0 || (bytes[0] & 0x80) !== 0) return undefined;
  return bytesToBigInt(bytes);
}

/** A small INTEGER's value (versions), else undefined. */
export function smallInteger(node: asn1js.AsnType | undefined): number | undefined {
  return node instanceof asn1js.Integer && node.valueBlock.valueHexView.length <= 4 ? node.valueBlock.valueDec : undefined;
}

/** An OBJECT IDENTIFIER's dotted form, else undefined. */
export function oidOf(node: asn1js.AsnType | undefined): string | undefined {
  return node instanceof asn1js.ObjectIdentifier ? node.valueBlock.toString() : undefined;
}

/** A BIT STRING holding whole octets (a point, a DER key), else undefined. */
export function octetsOfBitString(node: asn1js.AsnType | undefined): Uint8Array | undefined {
  if (!(node instanceof asn1js.BitString) || node.idBlock.isConstructed || node.valueBlock.unusedBits !== 0) return undefined;
  return new Uint8Array(node.valueBlock.valueHexView);
}

/** A primitive OCTET STRING's contents, else undefined. */
export function octetsOf(node: asn1js.AsnType | undefined): Uint8Array | undefined {
  if (!(node instanceof asn1js.OctetString) || node.idBlock.isConstructed) return undefined;
  return new Uint8Array(node.valueBlock.valueHexView);
}

/**
 * The INTEGER node of v ≥ 0, minimal (X.690 §8.3.2). asn1js's Integer.fromBigInt does the same
 * but costs ~35 µs for a 2048-bit value against ~2 µs here (measured).
 */
export function unsignedIntegerNode(v: bigint): asn1js.Integer {
  const bytes = bigIntToBytes(v);
  return new asn1js.Integer({ valueHex: (bytes[0] & 0x80) !== 0 ? concatBytes(Uint8Array.of(0), bytes) : bytes });
}

/**
 * One DER value from its tag and contents (X.690 §8.1: definite lengths, short or long form).
 * For structures whose shape is fixed (EC SPKI and PKCS#8): asn1js's object model costs ~200 µs
 * for an SPKI against ~1 µs here (measured); the readers above stay on asn1js / pkijs.
 */
export function derTlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of contents) n += c.length;
  const header = n < 0x80 ? [tag, n] : n < 0x100 ? [tag, 0x81, n] : n < 0x10000 ? [tag, 0x82, n >>> 8, n & 0xff] : undefined;
  if (!header) throw new RangeError('derTlv: contents over 64 KiB');
  // Written in place: no intermediate copy of the contents (they may be secret).
  const out = new Uint8Array(header.length + n);
  out.set(header);
  let off = header.length;
  for (const c of contents) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

const oidDer = new Map<string, Uint8Array>();

/** The DER of an OBJECT IDENTIFIER (encoded once per OID by asn1js, then remembered). */
export function objectIdentifierDer(oid: string): Uint8Array {
  let der = oidDer.get(oid);
  if (!der) {
    der = new Uint8Array(new asn1js.ObjectIdentifier({ value: oid }).toBER(false));
    oidDer.set(oid, der);
  }
  return der;
}
