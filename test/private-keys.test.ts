/**
 * PKCS#8 validation of imported private keys, field by field: every consistency rule is shown
 * to catch a key that breaks it (keys from node:crypto / OpenSSL, then one field altered).
 */
import { generateKeyPairSync } from 'node:crypto';
import * as asn1js from 'asn1js';
import { describe, expect, it } from 'vitest';
import { validatePrivateKey } from '../src/algorithms/private-keys/pkcs8.js';
import type { MaterialSpec } from '../src/algorithms/specs.js';
import { ByokError } from '../src/errors.js';

const der = { privateKeyEncoding: { type: 'pkcs8', format: 'der' }, publicKeyEncoding: { type: 'spki', format: 'der' } } as const;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, ...der });
const rsaOther = generateKeyPairSync('rsa', { modulusLength: 2048, ...der });
const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1', ...der });
const p256Other = generateKeyPairSync('ec', { namedCurve: 'prime256v1', ...der });

function expectInvalid(key: Uint8Array, spec: MaterialSpec, message: RegExp) {
  let err: unknown;
  try {
    validatePrivateKey(key, spec);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ByokError);
  expect((err as ByokError).code).toBe('INVALID_PRIVATE_KEY');
  expect((err as ByokError).message).toMatch(message);
}

/** PrivateKeyInfo → [outer SEQUENCE items, inner key SEQUENCE items]. */
function open(pkcs8: Uint8Array) {
  const outer = asn1js.fromBER(pkcs8).result as asn1js.Sequence;
  const inner = asn1js.fromBER((outer.valueBlock.value[2] as asn1js.OctetString).valueBlock.valueHexView).result as asn1js.Sequence;
  return { outer, inner };
}

function close(outer: asn1js.Sequence, inner: asn1js.Sequence): Uint8Array {
  outer.valueBlock.value[2] = new asn1js.OctetString({ valueHex: inner.toBER(false) });
  return new Uint8Array(outer.toBER(false));
}

/** Replace RSAPrivateKey field i (1 = n, 2 = e, 3 = d, 4 = p, 5 = q, 6 = dP, 7 = dQ, 8 = qInv). */
function alterRsa(pkcs8: Uint8Array, index: number, value: (old: bigint) => bigint): Uint8Array {
  const { outer, inner } = open(pkcs8);
  const old = BigInt('0x' + Buffer.from((inner.valueBlock.value[index] as asn1js.Integer).valueBlock.valueHexView).toString('hex'));
  inner.valueBlock.value[index] = asn1js.Integer.fromBigInt(value(old));
  return close(outer, inner);
}

describe('RSA private keys', () => {
  it('accepts a good key and returns the SPKI OpenSSL derives', () => {
    expect(Buffer.from(validatePrivateKey(new Uint8Array(rsa.privateKey), 'RSA_2048'))).toEqual(rsa.publicKey);
  });

  it('refuses a modulus of another size, an even or unit exponent, p·q ≠ n, d·e ≢ 1, bad CRT values', () => {
    const key = new Uint8Array(rsa.privateKey);
    expectInvalid(key, 'RSA_3072', /2048 bits, the key spec needs 3072/);
    expectInvalid(alterRsa(key, 2, () => 65538n), 'RSA_2048', /exponent/);
    expectInvalid(alterRsa(key, 2, () => 1n), 'RSA_2048', /exponent/);
    const otherN = open(new Uint8Array(rsaOther.privateKey)).inner.valueBlock.value[1] as asn1js.Integer;
    expectInvalid(alterRsa(key, 1, () => BigInt('0x' + Buffer.from(otherN.valueBlock.valueHexView).toString('hex'))), 'RSA_2048', /p·q/);
    expectInvalid(alterRsa(key, 3, (d) => d + 2n), 'RSA_2048', /d·e/);
    expectInvalid(alterRsa(key, 6, (dp) => dp + 1n), 'RSA_2048', /CRT/);
    expectInvalid(alterRsa(key, 8, (q) => q + 1n), 'RSA_2048', /CRT/);
  });
});

describe('EC private keys', () => {
  it('accepts a good key (SPKI byte-equal to OpenSSL\'s), with or without the embedded public key', () => {
    const key = new Uint8Array(p256.privateKey);
    expect(Buffer.from(validatePrivateKey(key, 'ECC_NIST_P256'))).toEqual(p256.publicKey);
    const { outer, inner } = open(key);
    inner.valueBlock.value = inner.valueBlock.value.slice(0, 2);
    expect(Buffer.from(validatePrivateKey(close(outer, inner), 'ECC_NIST_P256'))).toEqual(p256.publicKey);
  });

  it('refuses another curve, a scalar of 0 or ≥ n, and an embedded public key of another key', () => {
    const key = new Uint8Array(p256.privateKey);
    expectInvalid(key, 'ECC_NIST_P384', /curve/);
    expectInvalid(key, 'ECC_SECG_P256K1', /curve/);
    expectInvalid(key, 'RSA_2048', /EC key was sent/);
    for (const scalar of [Buffer.alloc(32), Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex')]) {
      const { outer, inner } = open(key);
      inner.valueBlock.value[1] = new asn1js.OctetString({ valueHex: scalar });
      expectInvalid(close(outer, inner), 'ECC_NIST_P256', /out of range/);
    }
    const { outer, inner } = open(key);
    inner.valueBlock.value[2] = open(new Uint8Array(p256Other.privateKey)).inner.valueBlock.value[2];
    expectInvalid(close(outer, inner), 'ECC_NIST_P256', /does not match/);
  });
});

describe('framing', () => {
  it('refuses trailing bytes, PEM text, SEC1 and PKCS#1 (naming the conversion), and other algorithms', () => {
    const key = new Uint8Array(rsa.privateKey);
    expectInvalid(new Uint8Array([...key, 0]), 'RSA_2048', /not DER/);
    expectInvalid(new TextEncoder().encode('-----BEGIN PRIVATE KEY-----'), 'RSA_2048', /PEM/);
    expectInvalid(new Uint8Array(open(key).inner.toBER(false)), 'RSA_2048', /PKCS#1.*openssl pkcs8 -topk8 -nocrypt/);
    expectInvalid(new Uint8Array(open(new Uint8Array(p256.privateKey)).inner.toBER(false)), 'ECC_NIST_P256', /SEC1.*openssl pkcs8 -topk8 -nocrypt/);
    const ed = generateKeyPairSync('ed25519', der);
    expectInvalid(new Uint8Array(ed.privateKey), 'ECC_NIST_P256', /unsupported key algorithm 1\.3\.101\.112/);
    expectInvalid(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), 'RSA_2048', /PKCS#8/);
  });
});
