/**
 * The one SPKI / PKCS#8 / RSAPrivateKey / ECPrivateKey module (src/algorithms/asn1) against
 * node:crypto's KeyObject exports (OpenSSL's encoder), for every key spec the engine takes:
 * what it reads equals what OpenSSL wrote, and what it builds is byte-equal to OpenSSL's.
 */
import { createECDH, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  bareKeyFormat, decodeDer, ecdsaSignatureDer, ecParametersDer, ecSpki, ID_EC_PUBLIC_KEY, readEcPrivateKey, readPrivateKeyInfo,
  readRsaPrivateKey, readSpki, RSA_ENCRYPTION, rsaSpki,
} from '../src/algorithms/asn1/index.js';
import { validatePrivateKey } from '../src/algorithms/private-keys/pkcs8.js';
import { MATERIAL_SPECS, type MaterialSpec } from '../src/algorithms/specs.js';
import { bytesToBigInt, toHex } from '../src/bytes.js';
import { privateKeyToPkcs8 } from '../src/client/index.js';

const DER = { privateKeyEncoding: { type: 'pkcs8', format: 'der' }, publicKeyEncoding: { type: 'spki', format: 'der' } } as const;
const b64 = (s: string | undefined) => bytesToBigInt(new Uint8Array(Buffer.from(s!, 'base64url')));

const RSA_SPECS = [['RSA_2048', 2048], ['RSA_3072', 3072], ['RSA_4096', 4096]] as const;
const EC_SPECS = [['ECC_NIST_P256', 'prime256v1'], ['ECC_NIST_P384', 'secp384r1'], ['ECC_NIST_P521', 'secp521r1'], ['ECC_SECG_P256K1', 'secp256k1'], ['SM2', 'SM2']] as const;

describe.each(RSA_SPECS)('%s', (spec, modulusLength) => {
  const pair = generateKeyPairSync('rsa', { modulusLength, ...DER });
  const jwk = createPrivateKey({ key: pair.privateKey, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });

  it('reads the PKCS#8 and its RSAPrivateKey as OpenSSL wrote them', () => {
    const info = readPrivateKeyInfo(new Uint8Array(pair.privateKey));
    expect(info).toMatchObject({ version: 0, algorithm: RSA_ENCRYPTION, parameters: 'null' });
    const key = readRsaPrivateKey(info!.privateKey)!;
    for (const name of ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const) expect(key[name], name).toBe(b64(jwk[name]));
    expect(bareKeyFormat(info!.privateKey)).toBe('pkcs1');
  });

  it('builds the SPKI byte-equal to OpenSSL and reads it back', () => {
    const spki = rsaSpki(b64(jwk.n), b64(jwk.e));
    expect(Buffer.from(spki)).toEqual(pair.publicKey);
    const fields = readSpki(spki)!;
    expect(fields.algorithm).toBe(RSA_ENCRYPTION);
    expect(fields.parameters).toBe('null');
    expect(Buffer.from(validatePrivateKey(new Uint8Array(pair.privateKey), spec))).toEqual(pair.publicKey);
  });
});

describe.each(EC_SPECS)('%s', (spec, namedCurve) => {
  const pair = generateKeyPairSync('ec', { namedCurve, ...DER });
  const info = MATERIAL_SPECS[spec as MaterialSpec].privateKey as { curveOid: string; opensslName: string; bytes: number };
  const point = new Uint8Array(pair.publicKey.subarray(pair.publicKey.length - (1 + 2 * info.bytes)));

  it('reads the PKCS#8 and its ECPrivateKey as OpenSSL wrote them', () => {
    const pkcs8 = readPrivateKeyInfo(new Uint8Array(pair.privateKey))!;
    expect(pkcs8).toMatchObject({ version: 0, algorithm: ID_EC_PUBLIC_KEY, parameters: 'oid', parametersOid: info.curveOid });
    const ec = readEcPrivateKey(pkcs8.privateKey)!;
    expect(ec.privateKey.length).toBe(info.bytes);
    expect(ec.publicKey && toHex(ec.publicKey)).toBe(toHex(point));
    // d·G is the SPKI's point: the scalar read is OpenSSL's.
    const ecdh = createECDH(info.opensslName);
    ecdh.setPrivateKey(ec.privateKey);
    expect(toHex(new Uint8Array(ecdh.getPublicKey()))).toBe(toHex(point));
    expect(bareKeyFormat(pkcs8.privateKey)).toBe('sec1');
  });

  it('builds the SPKI byte-equal to OpenSSL and reads it back', () => {
    const spki = ecSpki(info.curveOid, point);
    expect(Buffer.from(spki)).toEqual(pair.publicKey);
    expect(readSpki(spki)).toEqual({ algorithm: ID_EC_PUBLIC_KEY, parameters: 'oid', parametersOid: info.curveOid, publicKey: point });
    expect(pair.publicKey.includes(Buffer.from(ecParametersDer(info.curveOid)))).toBe(true);
    expect(Buffer.from(validatePrivateKey(new Uint8Array(pair.privateKey), spec as MaterialSpec))).toEqual(pair.publicKey);
  });
});

describe.each(EC_SPECS.filter(([spec]) => spec !== 'SM2'))('%s ECDSA-Sig-Value', (spec, namedCurve) => {
  it('converts raw r ‖ s to the DER OpenSSL verifies', () => {
    const pair = generateKeyPairSync('ec', { namedCurve, ...DER });
    const hash = spec === 'ECC_NIST_P384' ? 'sha384' : spec === 'ECC_NIST_P521' ? 'sha512' : 'sha256';
    const message = Buffer.from('asn1 round trip');
    const key = createPrivateKey({ key: pair.privateKey, format: 'der', type: 'pkcs8' });
    for (let i = 0; i < 8; i++) {
      const raw = sign(hash, message, { key, dsaEncoding: 'ieee-p1363' });
      expect(verify(hash, message, { key: createPublicKey(key), dsaEncoding: 'der' }, ecdsaSignatureDer(new Uint8Array(raw)))).toBe(true);
    }
  });
});

describe('malformed input', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, ...DER });
  const good = new Uint8Array(rsa.privateKey);
  const inputs: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array()],
    ['a trailing byte', new Uint8Array([...good, 0])],
    ['truncated', good.subarray(0, good.length - 1)],
    ['an asn1js throw (GeneralizedTime "zz")', Uint8Array.of(0x30, 0x04, 0x18, 0x02, 0x7a, 0x7a)],
    ['a bare GeneralizedTime', Uint8Array.of(0x18, 0x02, 0x7a, 0x7a)],
    ['an INTEGER', Uint8Array.of(0x02, 0x01, 0x00)],
  ];
  it.each(inputs)('%s: every reader says undefined, none throws', (_name, bytes) => {
    if (_name !== 'an INTEGER') expect(decodeDer(bytes)).toBeUndefined();
    expect(readPrivateKeyInfo(bytes)).toBeUndefined();
    expect(readRsaPrivateKey(bytes)).toBeUndefined();
    expect(readEcPrivateKey(bytes)).toBeUndefined();
    expect(readSpki(bytes)).toBeUndefined();
    expect(bareKeyFormat(bytes)).toBeUndefined();
  });

  it('a negative INTEGER in an RSAPrivateKey is refused (pkijs\'s class would strip the sign)', () => {
    const inner = readPrivateKeyInfo(good)!.privateKey;
    // n's INTEGER starts 02 82 01 01 00 <top bit set>: drop the 00 and shorten the lengths.
    const at = Buffer.from(inner).indexOf(Buffer.from('0282010100', 'hex'));
    const bytes = Buffer.concat([inner.subarray(0, at), Buffer.from('02820100', 'hex'), inner.subarray(at + 5)]);
    bytes.writeUInt16BE(bytes.readUInt16BE(2) - 1, 2);
    expect(decodeDer(new Uint8Array(bytes))).toBeDefined();
    expect(readRsaPrivateKey(new Uint8Array(bytes))).toBeUndefined();
  });
});

describe('client PKCS#8 conversion', () => {
  it('takes a private JWK (RSA, EC) as well as PEM and DER', () => {
    for (const pair of [generateKeyPairSync('rsa', { modulusLength: 2048, ...DER }), generateKeyPairSync('ec', { namedCurve: 'prime256v1', ...DER })]) {
      const key = createPrivateKey({ key: pair.privateKey, format: 'der', type: 'pkcs8' });
      expect(Buffer.from(privateKeyToPkcs8(key.export({ format: 'jwk' })))).toEqual(pair.privateKey);
      expect(Buffer.from(privateKeyToPkcs8(key.export({ format: 'pem', type: 'pkcs8' }) as string))).toEqual(pair.privateKey);
      expect(Buffer.from(privateKeyToPkcs8(new Uint8Array(pair.privateKey)))).toEqual(pair.privateKey);
    }
  });
});
