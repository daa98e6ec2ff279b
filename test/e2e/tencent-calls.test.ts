/**
 * The Tencent actions an imported key is for, against the real service: ListKeys, Schedule /
 * CancelKeyDeletion, GenerateDataKey, GenerateRandom, ReEncrypt, EncryptionContext as associated
 * data, EncryptionPublicKey (opened by the OpenSSL CLI), and every field the installed
 * tencentcloud-sdk-nodejs models declare for these actions, read from its kms_models.d.ts:
 * each request field accepted, each response field present.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSm2CiphertextDer, parseSm2Raw } from '../../src/algorithms/sm2/index.js';
import { customerDecrypt, customerEncrypt, wrapWithOpenssl } from '../helpers/customer.js';
import { postJson, startService, type RunningService } from '../helpers/service.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-e2e-tc-calls-'));
let svc: RunningService;

beforeAll(async () => {
  svc = await startService({ dataDir: dir, authTokens: 'tc-token=tc,other-token=other' });
});
afterAll(async () => {
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function call(action: string, body: Record<string, unknown>, token = 'tc-token') {
  const r = await postJson(svc.url + '/', body, { 'x-tc-action': action, authorization: `Bearer ${token}` });
  expect(r.status).toBe(200);
  return r.body.Response;
}
/** A successful call: no Error in the response. */
async function ok(action: string, body: Record<string, unknown>, token = 'tc-token') {
  const r = await call(action, body, token);
  expect(r.Error, `${action}: ${JSON.stringify(r.Error)}`).toBeUndefined();
  return r;
}
const errorCode = async (action: string, body: Record<string, unknown>) => (await call(action, body)).Error?.Code;

/** The fields an interface of the installed SDK's kms_models.d.ts declares (the SDK's own model). */
const MODELS = readFileSync(join(dirname(createRequire(import.meta.url).resolve('tencentcloud-sdk-nodejs/package.json')),
  'tencentcloud/services/kms/v20190118/kms_models.d.ts'), 'utf8');
function modelFields(name: string): string[] {
  const m = new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`).exec(MODELS);
  if (!m) throw new Error(`no interface ${name} in the SDK's models`);
  return [...m[1]!.matchAll(/^\s{4}(\w+)\??:/gm)].map((f) => f[1]!);
}

/** An AES_256 key with the customer's material imported (wrapped by the OpenSSL CLI). */
async function importedKey() {
  const { KeyId } = await ok('CreateKey', { Alias: 'k' + randomBytes(3).toString('hex'), Type: 2 });
  const p = await ok('GetParametersForImport', { KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
  const material = new Uint8Array(randomBytes(32));
  await ok('ImportKeyMaterial', { KeyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapWithOpenssl(p.PublicKey, 'RSAES_OAEP_SHA_256', material) });
  return { keyId: KeyId as string, material };
}

function openssl(args: string[], input?: Uint8Array): Buffer {
  return execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', ...(input ? { input } : {}) });
}

describe('Tencent: the calls an imported key is for', () => {
  it('every request field the SDK models declare is accepted; every response field they declare is present', async () => {
    // A value for each declared request field (the ignored ones included).
    const sample: Record<string, unknown> = {
      Alias: 'all-fields', Description: 'every field', KeyUsage: 'ENCRYPT_DECRYPT', Type: 2, Tags: [{ TagKey: 'team', TagValue: 'a' }], HsmClusterId: 'cls-1',
      MemberAccount: { MemberAppId: 1, MemberUin: 2 }, Offset: 0, Limit: 10, Role: 0,
    };
    const pick = (model: string, extra: Record<string, unknown> = {}) => Object.fromEntries(modelFields(model).map((f) => [f, extra[f] ?? sample[f]]));
    const created = await ok('CreateKey', pick('CreateKeyRequest'));
    for (const f of modelFields('CreateKeyResponse')) expect(created, `CreateKeyResponse.${f}`).toHaveProperty(f);
    expect(created).toMatchObject({ KeyState: 'PendingImport', KeyUsage: 'ENCRYPT_DECRYPT', TagCode: 2, HsmClusterId: '' });
    const KeyId = created.KeyId as string;

    const described = await ok('DescribeKey', pick('DescribeKeyRequest', { KeyId }));
    for (const f of modelFields('KeyMetadata')) expect(described.KeyMetadata, `KeyMetadata.${f}`).toHaveProperty(f);
    expect(described.KeyMetadata).toMatchObject({
      KeyId, Alias: 'all-fields', Description: 'every field', KeyState: 'PendingImport', KeyUsage: 'ENCRYPT_DECRYPT', Type: 2, Origin: 'EXTERNAL',
      KeyRotationEnabled: false, Owner: 'user', ResourceId: `creatorUin/tc/${KeyId}`, CreatorUinString: 'tc', ValidTo: 0, DeletionDate: 0,
    });
    const listed = await ok('ListKeys', pick('ListKeysRequest'));
    for (const f of modelFields('ListKeysResponse')) expect(listed, `ListKeysResponse.${f}`).toHaveProperty(f);
    for (const request of ['EnableKeyRequest', 'DisableKeyRequest']) {
      // The key awaits material: the state refuses, after every field was accepted (no InvalidParameter).
      expect((await call(request.replace('Request', ''), pick(request, { KeyId }))).Error?.Code, request).toBe('ResourceUnavailable.CmkStateNotSupport');
    }

    const { keyId, material } = await importedKey();
    const ctx = '{"purpose":"all-fields"}';
    const enc = await ok('Encrypt', pick('EncryptRequest', { KeyId: keyId, Plaintext: Buffer.from('x').toString('base64'), EncryptionContext: ctx }));
    for (const f of modelFields('EncryptResponse')) expect(enc, `EncryptResponse.${f}`).toHaveProperty(f);
    const dk = await ok('GenerateDataKey', pick('GenerateDataKeyRequest', {
      KeyId: keyId, KeySpec: 'AES_256', NumberOfBytes: 32, EncryptionContext: ctx, EncryptionPublicKey: undefined, EncryptionAlgorithm: 'SM2',
      IsHostedByKms: 0, DataKeyName: 'dk', Description: 'dk',
    }));
    for (const f of modelFields('GenerateDataKeyResponse')) expect(dk, `GenerateDataKeyResponse.${f}`).toHaveProperty(f);
    expect(dk).toMatchObject({ KeyId: keyId, DataKeyId: '', TagCode: 2 });
    const dec = await ok('Decrypt', pick('DecryptRequest', { CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ctx, EncryptionPublicKey: undefined, EncryptionAlgorithm: 'SM2' }));
    for (const f of modelFields('DecryptResponse')) expect(dec, `DecryptResponse.${f}`).toHaveProperty(f);
    expect(dec.Plaintext).toBe(dk.Plaintext);
    expect(Buffer.from(customerDecrypt('AES_256', material, Buffer.from(dk.CiphertextBlob, 'base64'), Buffer.from(ctx))).toString('base64')).toBe(dk.Plaintext);
    const re = await ok('ReEncrypt', pick('ReEncryptRequest', { CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: keyId, SourceEncryptionContext: ctx, DestinationEncryptionContext: '{"b":"2"}' }));
    for (const f of modelFields('ReEncryptResponse')) expect(re, `ReEncryptResponse.${f}`).toHaveProperty(f);
    const random = await ok('GenerateRandom', pick('GenerateRandomRequest', { NumberOfBytes: 16 }));
    for (const f of modelFields('GenerateRandomResponse')) expect(random, `GenerateRandomResponse.${f}`).toHaveProperty(f);

    const scheduled = await ok('ScheduleKeyDeletion', pick('ScheduleKeyDeletionRequest', { KeyId: keyId, PendingWindowInDays: 7 }));
    for (const f of modelFields('ScheduleKeyDeletionResponse')) expect(scheduled, `ScheduleKeyDeletionResponse.${f}`).toHaveProperty(f);
    const cancelled = await ok('CancelKeyDeletion', pick('CancelKeyDeletionRequest', { KeyId: keyId }));
    for (const f of modelFields('CancelKeyDeletionResponse')) expect(cancelled, `CancelKeyDeletionResponse.${f}`).toHaveProperty(f);
    // Unknown fields are still refused.
    expect(await errorCode('DescribeKey', { KeyId: keyId, NoSuchField: 1 })).toBe('InvalidParameter');
  });

  it('EncryptionContext is associated data: the same pairs in any order open the blob, others or none do not', async () => {
    const { keyId, material } = await importedKey();
    const plaintext = Buffer.from('context-bound').toString('base64');
    const enc = await ok('Encrypt', { KeyId: keyId, Plaintext: plaintext, EncryptionContext: '{"b":"2","a":"1"}' });
    expect((await ok('Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionContext: '{ "a": "1", "b": "2" }' })).Plaintext).toBe(plaintext);
    for (const wrong of [undefined, '{"a":"1"}', '{"a":"1","b":"3"}']) {
      expect(await errorCode('Decrypt', { CiphertextBlob: enc.CiphertextBlob, ...(wrong ? { EncryptionContext: wrong } : {}) })).toBe('InvalidParameter');
    }
    // The associated data is the canonical JSON (sorted keys, no spaces): the customer opens it locally.
    const blob = Buffer.from(enc.CiphertextBlob, 'base64');
    expect(Buffer.from(customerDecrypt('AES_256', material, blob, Buffer.from('{"a":"1","b":"2"}'))).toString()).toBe('context-bound');
    // And a blob the customer binds to a context decrypts with it.
    const mine = customerEncrypt(keyId, 'AES_256', material, Buffer.from('mine'), Buffer.from('{"k":"v"}'));
    expect((await ok('Decrypt', { CiphertextBlob: Buffer.from(mine).toString('base64'), EncryptionContext: '{"k":"v"}' })).Plaintext).toBe(Buffer.from('mine').toString('base64'));
    for (const bad of ['not json', '["a"]', '{"a":1}', 'null']) expect(await errorCode('Encrypt', { KeyId: keyId, Plaintext: plaintext, EncryptionContext: bad }), bad).toBe('InvalidParameter');
  });

  it('GenerateDataKey: KeySpec or NumberOfBytes (NumberOfBytes wins), the blob opens with Decrypt and the customer\'s material; hosted data keys are refused', async () => {
    const { keyId, material } = await importedKey();
    const dk = await ok('GenerateDataKey', { KeyId: keyId, KeySpec: 'AES_128' });
    const plain = Buffer.from(dk.Plaintext, 'base64');
    expect(plain).toHaveLength(16);
    expect(Buffer.from(customerDecrypt('AES_256', material, Buffer.from(dk.CiphertextBlob, 'base64')))).toEqual(plain);
    expect((await ok('Decrypt', { CiphertextBlob: dk.CiphertextBlob })).Plaintext).toBe(dk.Plaintext);
    expect(Buffer.from((await ok('GenerateDataKey', { KeyId: keyId, KeySpec: 'AES_128', NumberOfBytes: 1024 })).Plaintext, 'base64')).toHaveLength(1024);
    expect(await errorCode('GenerateDataKey', { KeyId: keyId })).toBe('InvalidParameter');
    expect(await errorCode('GenerateDataKey', { KeyId: keyId, NumberOfBytes: 1025 })).toBe('InvalidParameter');
    expect(await errorCode('GenerateDataKey', { KeyId: keyId, KeySpec: 'AES_256', IsHostedByKms: 1, DataKeyName: 'x' })).toBe('UnsupportedOperation');
    expect((await call('GenerateDataKey', { KeyId: keyId, KeySpec: 'AES_256' }, 'other-token')).Error.Code).toBe('ResourceUnavailable.CmkNotFound');
    await ok('DisableKey', { KeyId: keyId });
    expect(await errorCode('GenerateDataKey', { KeyId: keyId, KeySpec: 'AES_256' })).toBe('ResourceUnavailable.CmkStateNotSupport');
  });

  it('EncryptionPublicKey: Decrypt and GenerateDataKey return the plaintext sealed for the caller, opened by `openssl pkeyutl`', async () => {
    const { keyId } = await importedKey();
    openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'rsa.pem']);
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', 'sm2.pem']);
    const pub = (key: string) => openssl(['pkey', '-in', key, '-pubout']).toString();
    const opened = (key: string, sealed: Buffer, opts: string[]) => {
      writeFileSync(join(dir, 'sealed.bin'), sealed);
      return openssl(['pkeyutl', '-decrypt', '-inkey', key, '-in', 'sealed.bin', ...opts.flatMap((o) => ['-pkeyopt', o])]);
    };
    const enc = await ok('Encrypt', { KeyId: keyId, Plaintext: Buffer.from('sealed for me').toString('base64') });
    const cases = [
      ['RSAES_OAEP_SHA_256', 'rsa.pem', ['rsa_padding_mode:oaep', 'rsa_oaep_md:sha256', 'rsa_mgf1_md:sha256']],
      ['RSAES_OAEP_SHA_1', 'rsa.pem', ['rsa_padding_mode:oaep', 'rsa_oaep_md:sha1']],
      ['RSAES_PKCS1_V1_5', 'rsa.pem', ['rsa_padding_mode:pkcs1']],
      ['SM2_C1C3C2_ASN1', 'sm2.pem', []],
    ] as const;
    for (const [algorithm, key, opts] of cases) {
      const dec = await ok('Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionPublicKey: pub(key), EncryptionAlgorithm: algorithm });
      expect(opened(key, Buffer.from(dec.Plaintext, 'base64'), [...opts]).toString(), algorithm).toBe('sealed for me');
    }
    // SM2 (the default): C1C3C2 raw, 04 ‖ x ‖ y ‖ C3 ‖ C2; OpenSSL opens its GM/T 0009 DER form.
    const dk = await ok('GenerateDataKey', { KeyId: keyId, NumberOfBytes: 32, EncryptionPublicKey: pub('sm2.pem') });
    const raw = new Uint8Array(Buffer.from(dk.Plaintext, 'base64'));
    expect([raw.length, raw[0]]).toEqual([1 + 64 + 32 + 32, 4]);
    const dataKey = opened('sm2.pem', Buffer.from(encodeSm2CiphertextDer(parseSm2Raw(raw, 'C1C3C2'))), []);
    expect(Buffer.from((await ok('Decrypt', { CiphertextBlob: dk.CiphertextBlob })).Plaintext, 'base64')).toEqual(dataKey);
    expect(await errorCode('Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionPublicKey: 'not a key' })).toBe('InvalidParameter');
    expect(await errorCode('Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionPublicKey: pub('sm2.pem'), EncryptionAlgorithm: 'RSAES_PKCS1_V1_5' })).toBe('InvalidParameter');
    expect(await errorCode('Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionPublicKey: pub('rsa.pem'), EncryptionAlgorithm: 'SM2' })).toBe('InvalidParameter');
  });

  it('ListKeys pages with Offset / Limit and counts TotalCount, per tenant', async () => {
    const keys: string[] = [];
    for (let i = 0; i < 3; i++) keys.push((await ok('CreateKey', { Alias: `list${i}` }, 'other-token')).KeyId);
    const all = await ok('ListKeys', { Limit: 200 }, 'other-token');
    expect(all.TotalCount).toBe(3);
    expect(all.Keys.map((k: { KeyId: string }) => k.KeyId).sort()).toEqual([...keys].sort());
    const first = await ok('ListKeys', { Limit: 2 }, 'other-token');
    const rest = await ok('ListKeys', { Offset: 2, Limit: 2 }, 'other-token');
    expect([...first.Keys, ...rest.Keys].map((k: { KeyId: string }) => k.KeyId)).toEqual(all.Keys.map((k: { KeyId: string }) => k.KeyId));
    expect((await ok('ListKeys', { Role: 1 }, 'other-token'))).toMatchObject({ Keys: [], TotalCount: 0 });
    expect(await errorCode('ListKeys', { Limit: 201 })).toBe('InvalidParameter');
  });

  it('ScheduleKeyDeletion (7 to 30 days) and CancelKeyDeletion (the key comes back disabled)', async () => {
    const { keyId } = await importedKey();
    const before = Math.floor(Date.now() / 1000);
    const s = await ok('ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: 7 });
    expect(s.KeyId).toBe(keyId);
    expect(s.DeletionDate).toBeGreaterThanOrEqual(before + 7 * 86400);
    expect(s.DeletionDate).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 7 * 86400);
    expect((await ok('DescribeKey', { KeyId: keyId })).KeyMetadata).toMatchObject({ KeyState: 'PendingDelete', DeletionDate: s.DeletionDate });
    expect(await errorCode('Encrypt', { KeyId: keyId, Plaintext: 'AAAA' })).toBe('ResourceUnavailable.CmkStateNotSupport');
    expect(await errorCode('ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: 31 })).toBe('InvalidParameter');
    expect(await errorCode('ScheduleKeyDeletion', { KeyId: keyId })).toBe('InvalidParameter');
    expect((await ok('CancelKeyDeletion', { KeyId: keyId })).KeyId).toBe(keyId);
    expect((await ok('DescribeKey', { KeyId: keyId })).KeyMetadata).toMatchObject({ KeyState: 'Disabled', DeletionDate: 0 });
    expect(await errorCode('CancelKeyDeletion', { KeyId: keyId })).toBe('ResourceUnavailable.CmkStateNotSupport');
  });

  it('ReEncrypt moves a blob to another key (or refreshes it under its own) with its contexts', async () => {
    const a = await importedKey();
    const b = await importedKey();
    const enc = await ok('Encrypt', { KeyId: a.keyId, Plaintext: Buffer.from('move me').toString('base64'), EncryptionContext: '{"from":"a"}' });
    const moved = await ok('ReEncrypt', { CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: b.keyId, SourceEncryptionContext: '{"from":"a"}', DestinationEncryptionContext: '{"to":"b"}' });
    expect(moved).toMatchObject({ KeyId: b.keyId, SourceKeyId: a.keyId, ReEncrypted: true });
    expect(Buffer.from(customerDecrypt('AES_256', b.material, Buffer.from(moved.CiphertextBlob, 'base64'), Buffer.from('{"to":"b"}'))).toString()).toBe('move me');
    const refreshed = await ok('ReEncrypt', { CiphertextBlob: moved.CiphertextBlob, SourceEncryptionContext: '{"to":"b"}' });
    expect(refreshed).toMatchObject({ KeyId: b.keyId, SourceKeyId: b.keyId });
    expect(refreshed.CiphertextBlob).not.toBe(moved.CiphertextBlob);
    expect(await errorCode('ReEncrypt', { CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: b.keyId })).toBe('InvalidParameter');
  });

  it('GenerateRandom: 1 to 1024 bytes', async () => {
    const r = await ok('GenerateRandom', { NumberOfBytes: 1024 });
    expect(Buffer.from(r.Plaintext, 'base64')).toHaveLength(1024);
    expect(r.Plaintext).not.toBe((await ok('GenerateRandom', { NumberOfBytes: 1024 })).Plaintext);
    for (const n of [0, 1025]) expect(await errorCode('GenerateRandom', { NumberOfBytes: n })).toBe('InvalidParameter');
    expect(await errorCode('GenerateRandom', {})).toBe('InvalidParameter');
  });

  it('CreateKey KeyUsage: sign-verify usages make their key spec; asymmetric decryption is refused', async () => {
    const ecc = await ok('CreateKey', { Alias: 'ecc', KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_ECC', Type: 2 });
    expect(ecc.KeyUsage).toBe('ASYMMETRIC_SIGN_VERIFY_ECC');
    expect((await ok('DescribeKey', { KeyId: ecc.KeyId })).KeyMetadata).toMatchObject({ KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_ECC', Type: 2 });
    expect((await ok('DescribeKey', { KeyId: (await ok('CreateKey', { Alias: 'sm2', KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_SM2' })).KeyId })).KeyMetadata.Type).toBe(4);
    expect(await errorCode('CreateKey', { Alias: 'dec', KeyUsage: 'ASYMMETRIC_DECRYPT_SM2' })).toBe('UnsupportedOperation');
  });
});
