/**
 * The AWS import walk-through against the real `byok serve`, with @aws-sdk/client-kms unmodified
 * (endpoint and credentials only) and the OpenSSL CLI doing the customer's side as AWS's
 * documentation does: every wrapping algorithm × wrapping key spec (16 pairs), imports with and without
 * expiry, DescribeKey, Encrypt/Decrypt; then RSA and EC private keys imported with
 * RSA_AES_KEY_WRAP_SHA_256 and used to Sign (checked by `openssl pkeyutl -verify`), and an HMAC
 * key's GenerateMac (checked by `openssl dgst -mac HMAC`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateAliasCommand, CreateKeyCommand, DecryptCommand, DeleteAliasCommand, GenerateDataKeyCommand, GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand, ListAliasesCommand, ListKeysCommand, ReEncryptCommand, DescribeKeyCommand, EncryptCommand, GenerateMacCommand, GetParametersForImportCommand,
  GetPublicKeyCommand, ImportKeyMaterialCommand, SignCommand, VerifyCommand, VerifyMacCommand,
  type AlgorithmSpec, type KeySpec, type KeyUsageType, type KMSClient, type WrappingKeySpec,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kmsClient, opensslHmac, opensslPrivateKey, opensslVerifiesSha256, wrapForAws } from '../helpers/aws.js';
import { customerDecrypt } from '../helpers/customer.js';
import { startService, type RunningService } from '../helpers/service.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-e2e-aws-'));
const ALICE = { id: 'AKIAALICEEXAMPLE0001', secret: 'alice/Secret+Key/EXAMPLE0000000000000001' };
let svc: RunningService;
let kms: KMSClient;

beforeAll(async () => {
  svc = await startService({ dataDir: dir, authTokens: 'api-token=alice', env: { BYOK_ACCESS_KEYS: `${ALICE.id}:${ALICE.secret}=alice` }, args: ['--log-level', 'warn'] });
  kms = kmsClient(svc.url, ALICE.id, ALICE.secret);
});
afterAll(async () => {
  kms?.destroy();
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function externalKey(keySpec: KeySpec = 'SYMMETRIC_DEFAULT', keyUsage?: KeyUsageType) {
  const r = await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL', KeySpec: keySpec, ...(keyUsage ? { KeyUsage: keyUsage } : {}), Description: 'aws e2e' }));
  return r.KeyMetadata!;
}

/** GetParametersForImport, the OpenSSL wrap, ImportKeyMaterial; returns the import's answer. */
async function importMaterial(keyId: string, algorithm: AlgorithmSpec, spec: WrappingKeySpec, material: Uint8Array, expiry: { ValidTo?: Date; ExpirationModel?: 'KEY_MATERIAL_EXPIRES' | 'KEY_MATERIAL_DOES_NOT_EXPIRE' }) {
  const p = await kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: spec }));
  expect(p.KeyId).toBe(`arn:aws:kms:us-east-1:111122223333:key/${keyId}`);
  expect(p.ParametersValidTo!.getTime()).toBeGreaterThan(Date.now());
  const wrapped = wrapForAws(p.PublicKey!, algorithm, material);
  return kms.send(new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: p.ImportToken!, EncryptedKeyMaterial: wrapped, ...expiry }));
}

// Every wrapping algorithm × every wrapping key spec AWS names for it: the five RSA algorithms with
// RSA_2048, RSA_3072 and RSA_4096, and SM2PKE with SM2 (16 pairs; the larger specs cost a key
// generation of ~0.3 s / ~0.8 s each here).
const ALGORITHMS = ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5', 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1'] as const;
const RSA_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096'] as const;
const MATRIX: Array<[AlgorithmSpec, WrappingKeySpec]> = [
  ...RSA_SPECS.flatMap((s) => ALGORITHMS.map((a): [AlgorithmSpec, WrappingKeySpec] => [a, s])), ['SM2PKE', 'SM2'],
];

describe('the AWS import walk-through with @aws-sdk/client-kms and the OpenSSL CLI', () => {
  it.each(MATRIX.map(([a, s], i) => [a, s, i % 2 === 0] as const))('%s with %s (expiring: %s)', async (algorithm, spec, expiring) => {
    const key = await externalKey();
    expect(key).toMatchObject({ KeyState: 'PendingImport', Origin: 'EXTERNAL', Enabled: false, KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', AWSAccountId: '111122223333' });
    expect(key.ExpirationModel).toBeUndefined();
    const material = randomBytes(32);
    const validTo = new Date((Math.floor(Date.now() / 1000) + 30 * 86400) * 1000);
    const r = await importMaterial(key.KeyId!, algorithm, spec, material, expiring ? { ValidTo: validTo } : { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    expect(r.KeyId).toBe(key.Arn);

    const d = (await kms.send(new DescribeKeyCommand({ KeyId: key.Arn }))).KeyMetadata!;
    expect(d).toMatchObject({ KeyState: 'Enabled', Enabled: true, ExpirationModel: expiring ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    expect(d.ValidTo?.getTime()).toBe(expiring ? validTo.getTime() : undefined);

    const plaintext = Buffer.from(`walk-through ${algorithm} ${spec}`);
    const enc = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext }));
    expect(enc).toMatchObject({ KeyId: key.Arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    // The customer's own copy of the material opens what the service sealed.
    expect(Buffer.from(customerDecrypt('AES_256', material, enc.CiphertextBlob!))).toEqual(plaintext);
    // The blob names its key: Decrypt needs no KeyId.
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }));
    expect(dec.KeyId).toBe(key.Arn);
    expect(Buffer.from(dec.Plaintext!)).toEqual(plaintext);
  });

  const RSA = ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
  // One OpenSSL key per spec: the two RSA cases import the same key into two AWS keys.
  const made = new Map<readonly string[], ReturnType<typeof opensslPrivateKey>>();
  const privateKey = (args: readonly string[]) => made.get(args) ?? made.set(args, opensslPrivateKey([...args])).get(args)!;
  const P256 = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  it.each([
    ['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_256', RSA, []],
    ['RSA_2048', 'RSASSA_PSS_SHA_256', RSA, ['rsa_padding_mode:pss', 'rsa_pss_saltlen:digest']],
    ['ECC_NIST_P256', 'ECDSA_SHA_256', P256, []],
  ] as const)('a %s private key imported with RSA_AES_KEY_WRAP_SHA_256 signs with %s (openssl pkeyutl -verify)', async (keySpec, signingAlgorithm, genpkey, verifyOpts) => {
    const { pkcs8, spki } = privateKey(genpkey);
    const key = await externalKey(keySpec, 'SIGN_VERIFY');
    expect(key).toMatchObject({ KeySpec: keySpec, KeyUsage: 'SIGN_VERIFY', KeyState: 'PendingImport' });
    await importMaterial(key.KeyId!, 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_2048', pkcs8, { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });

    const pub = await kms.send(new GetPublicKeyCommand({ KeyId: key.KeyId }));
    expect(Buffer.from(pub.PublicKey!)).toEqual(spki);
    expect(pub).toMatchObject({ KeySpec: keySpec, KeyUsage: 'SIGN_VERIFY' });
    expect(pub.SigningAlgorithms).toContain(signingAlgorithm);

    const message = Buffer.from(`signed through the AWS dialect with ${signingAlgorithm}`);
    const s = await kms.send(new SignCommand({ KeyId: key.Arn, Message: message, MessageType: 'RAW', SigningAlgorithm: signingAlgorithm }));
    expect(s).toMatchObject({ KeyId: key.Arn, SigningAlgorithm: signingAlgorithm });
    expect(opensslVerifiesSha256(spki, message, s.Signature!, [...verifyOpts])).toBe(true);
    expect(opensslVerifiesSha256(spki, Buffer.from('another message'), s.Signature!, [...verifyOpts])).toBe(false);

    // MessageType DIGEST: the caller hashed the message; the signature is the same verifiable one.
    const digest = createHash('sha256').update(message).digest();
    const sd = await kms.send(new SignCommand({ KeyId: key.KeyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: signingAlgorithm }));
    expect(opensslVerifiesSha256(spki, message, sd.Signature!, [...verifyOpts])).toBe(true);
    expect((await kms.send(new VerifyCommand({ KeyId: key.KeyId, Message: digest, MessageType: 'DIGEST', Signature: s.Signature, SigningAlgorithm: signingAlgorithm }))).SignatureValid).toBe(true);

    const v = await kms.send(new VerifyCommand({ KeyId: key.KeyId, Message: message, Signature: s.Signature, SigningAlgorithm: signingAlgorithm }));
    expect(v.SignatureValid).toBe(true);
    await expect(kms.send(new VerifyCommand({ KeyId: key.KeyId, Message: Buffer.from('another message'), Signature: s.Signature, SigningAlgorithm: signingAlgorithm })))
      .rejects.toMatchObject({ name: 'KMSInvalidSignatureException' });
  });

  it('an HMAC_256 key: GenerateMac equals openssl dgst -mac HMAC, VerifyMac refuses a wrong MAC', async () => {
    const key = await externalKey('HMAC_256', 'GENERATE_VERIFY_MAC');
    expect(key).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', MacAlgorithms: ['HMAC_SHA_256'] });
    const material = randomBytes(32);
    await importMaterial(key.KeyId!, 'RSAES_OAEP_SHA_256', 'RSA_2048', material, { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    const message = Buffer.from('mac me through the AWS dialect');
    const m = await kms.send(new GenerateMacCommand({ KeyId: key.KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256' }));
    expect(m).toMatchObject({ KeyId: key.Arn, MacAlgorithm: 'HMAC_SHA_256' });
    expect(Buffer.from(m.Mac!)).toEqual(opensslHmac('sha256', material, message));
    expect((await kms.send(new VerifyMacCommand({ KeyId: key.KeyId, Message: message, Mac: m.Mac, MacAlgorithm: 'HMAC_SHA_256' }))).MacValid).toBe(true);
    const wrong = Buffer.from(m.Mac!);
    wrong[0]! ^= 1;
    await expect(kms.send(new VerifyMacCommand({ KeyId: key.KeyId, Message: message, Mac: wrong, MacAlgorithm: 'HMAC_SHA_256' }))).rejects.toMatchObject({ name: 'KMSInvalidMacException' });
  });

  it('the calls an imported key is for: EncryptionContext, GenerateDataKey (with and without plaintext), ReEncrypt, GenerateRandom', async () => {
    const [a, b] = [await externalKey(), await externalKey()];
    const [ma, mb] = [randomBytes(32), randomBytes(32)];
    await importMaterial(a.KeyId!, 'SM2PKE', 'SM2', ma, { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    await importMaterial(b.KeyId!, 'SM2PKE', 'SM2', mb, { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    const context = { purpose: 'aws e2e', tenant: 'alice' };

    const enc = await kms.send(new EncryptCommand({ KeyId: a.KeyId, Plaintext: Buffer.from('bound to a context'), EncryptionContext: context }));
    // The context is the blob's associated data: the same pairs in any order open it, others or none do not.
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { tenant: 'alice', purpose: 'aws e2e' } }))).Plaintext!).toString()).toBe('bound to a context');
    for (const other of [undefined, { purpose: 'aws e2e' }, { ...context, extra: 'x' }]) {
      await expect(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, ...(other ? { EncryptionContext: other } : {}) }))).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
    }
    // A KeyId on Decrypt must be the blob's key (any of its names).
    await expect(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: context, KeyId: b.KeyId }))).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
    expect((await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: context, KeyId: a.Arn }))).KeyId).toBe(a.Arn);

    const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: a.KeyId, KeySpec: 'AES_256', EncryptionContext: context }));
    expect(dk.KeyId).toBe(a.Arn);
    expect(dk.Plaintext).toHaveLength(32);
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: context }))).Plaintext!)).toEqual(Buffer.from(dk.Plaintext!));
    const dk2 = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: a.KeyId, NumberOfBytes: 16 }));
    expect(dk2.Plaintext).toBeUndefined();
    expect((await kms.send(new DecryptCommand({ CiphertextBlob: dk2.CiphertextBlob }))).Plaintext).toHaveLength(16);
    await expect(kms.send(new GenerateDataKeyCommand({ KeyId: a.KeyId }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(kms.send(new GenerateDataKeyCommand({ KeyId: a.KeyId, KeySpec: 'AES_128', NumberOfBytes: 16 }))).rejects.toMatchObject({ name: 'ValidationException' });

    // ReEncrypt from a (with its context) to b (with another): b's material opens the result.
    const re = await kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: context, DestinationKeyId: b.Arn, DestinationEncryptionContext: { to: 'b' } }));
    expect(re).toMatchObject({ SourceKeyId: a.Arn, KeyId: b.Arn, SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT', DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    expect(Buffer.from(customerDecrypt('AES_256', mb, re.CiphertextBlob!, Buffer.from('{"to":"b"}'))).toString()).toBe('bound to a context');
    await expect(kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: b.KeyId }))).rejects.toMatchObject({ name: 'InvalidCiphertextException' });

    const r1 = await kms.send(new GenerateRandomCommand({ NumberOfBytes: 64 }));
    const r2 = await kms.send(new GenerateRandomCommand({ NumberOfBytes: 64 }));
    expect(r1.Plaintext).toHaveLength(64);
    expect(Buffer.from(r1.Plaintext!)).not.toEqual(Buffer.from(r2.Plaintext!));
    await expect(kms.send(new GenerateRandomCommand({ NumberOfBytes: 1025 }))).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('aliases name keys wherever AWS takes them; ListKeys and ListAliases page with Limit and Marker', async () => {
    const key = await externalKey();
    const material = randomBytes(32);
    await importMaterial(key.KeyId!, 'SM2PKE', 'SM2', material, { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    const name = `alias/e2e-${randomBytes(4).toString('hex')}`;
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: key.Arn }));
    await expect(kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: key.KeyId }))).rejects.toMatchObject({ name: 'AlreadyExistsException' });
    await expect(kms.send(new CreateAliasCommand({ AliasName: 'alias/aws/reserved', TargetKeyId: key.KeyId }))).rejects.toMatchObject({ name: 'ValidationException' });
    const aliasArn = `arn:aws:kms:us-east-1:111122223333:${name}`;
    for (const id of [name, aliasArn]) expect((await kms.send(new DescribeKeyCommand({ KeyId: id }))).KeyMetadata!.KeyId).toBe(key.KeyId);
    const enc = await kms.send(new EncryptCommand({ KeyId: aliasArn, Plaintext: Buffer.from('via an alias') }));
    expect(enc.KeyId).toBe(key.Arn);
    expect(Buffer.from(customerDecrypt('AES_256', material, enc.CiphertextBlob!)).toString()).toBe('via an alias');
    // The import and life-cycle calls take a key ID or ARN only, as AWS's do.
    await expect(kms.send(new GetParametersForImportCommand({ KeyId: name, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }))).rejects.toMatchObject({ name: 'NotFoundException' });

    const listed = await kms.send(new ListAliasesCommand({ KeyId: key.KeyId }));
    expect(listed.Aliases).toEqual([expect.objectContaining({ AliasName: name, AliasArn: aliasArn, TargetKeyId: key.KeyId })]);
    await kms.send(new DeleteAliasCommand({ AliasName: name }));
    await expect(kms.send(new DescribeKeyCommand({ KeyId: name }))).rejects.toMatchObject({ name: 'NotFoundException' });
    expect((await kms.send(new ListAliasesCommand({ KeyId: key.KeyId }))).Aliases).toEqual([]);

    // Every key of the tenant, two at a time, each once.
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await kms.send(new ListKeysCommand({ Limit: 2, ...(marker ? { Marker: marker } : {}) }));
      expect(page.Keys!.length).toBeLessThanOrEqual(2);
      for (const k of page.Keys!) {
        expect(k.KeyArn).toBe(`arn:aws:kms:us-east-1:111122223333:key/${k.KeyId}`);
        seen.push(k.KeyId!);
      }
      expect(page.Truncated).toBe(page.NextMarker !== undefined);
      marker = page.NextMarker;
    } while (marker);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toContain(key.KeyId);
    expect(seen.length).toBe((await kms.send(new ListKeysCommand({ Limit: 1000 }))).Keys!.length);
  });
});
