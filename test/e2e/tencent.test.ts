/**
 * The Tencent-style action dialect against the real service: every wrapping algorithm and key
 * spec, and every error code the seeds list for ImportKeyMaterial, each reached for real.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerDecrypt, wrapWithOpenssl } from '../helpers/customer.js';
import { postJson, startService, type RunningService } from '../helpers/service.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-e2e-tc-'));
const TOKENS = 'tc-token=tc,other-token=other';
let svc: RunningService;

beforeAll(async () => {
  svc = await startService({ dataDir: dir, authTokens: TOKENS, env: { BYOK_SQLITE_BUSY_TIMEOUT_MS: '200' } });
});
afterAll(async () => {
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function call(action: string, body: Record<string, unknown>, token = 'tc-token', url = svc.url) {
  const r = await postJson(url + '/', body, { 'x-tc-action': action, authorization: `Bearer ${token}` });
  expect(r.status).toBe(200); // Tencent reports errors in the body
  expect(r.body.Response.RequestId).toMatch(/^[0-9a-f-]{36}$/);
  return r.body.Response;
}
const errorCode = (resp: any) => resp.Error?.Code;

async function externalKey() {
  return (await call('CreateKey', { Alias: 'k' + randomBytes(3).toString('hex'), Type: 2 })).KeyId as string;
}

async function importInto(keyId: string, algorithm: string, spec: string, material: Uint8Array, extra: Record<string, unknown> = {}) {
  const p = await call('GetParametersForImport', { KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: spec });
  expect(p.Error).toBeUndefined();
  const wire = algorithm === 'SM2PKE' ? 'SM2_ENCRYPT' : algorithm;
  return call('ImportKeyMaterial', { KeyId: keyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapWithOpenssl(p.PublicKey, wire, material), ...extra });
}

describe('Tencent-style actions against the real service', () => {
  it.each([
    ['RSAES_OAEP_SHA_256', 'RSA_2048'], ['RSAES_OAEP_SHA_1', 'RSA_3072'], ['RSAES_PKCS1_V1_5', 'RSA_4096'], ['SM2PKE', 'SM2'],
  ])('happy path: %s with %s', async (algorithm, spec) => {
    const keyId = await externalKey();
    expect((await call('DescribeKey', { KeyId: keyId })).KeyMetadata).toMatchObject({ KeyState: 'PendingImport', Origin: 'EXTERNAL', Type: 2 });
    const material = randomBytes(32);
    const r = await importInto(keyId, algorithm, spec, material);
    expect(r.Error).toBeUndefined();
    expect((await call('DescribeKey', { KeyId: keyId })).KeyMetadata.KeyState).toBe('Enabled');
    const enc = await call('Encrypt', { KeyId: keyId, Plaintext: Buffer.from('tc plaintext').toString('base64') });
    expect(Buffer.from(customerDecrypt('AES_256', material, Buffer.from(enc.CiphertextBlob, 'base64'))).toString()).toBe('tc plaintext');
    const dec = await call('Decrypt', { CiphertextBlob: enc.CiphertextBlob });
    expect(dec).toMatchObject({ KeyId: keyId, Plaintext: Buffer.from('tc plaintext').toString('base64') });
  });

  it('every seed error code is reachable', async () => {
    const seen = new Set<string>();
    const expectCode = (resp: any, code: string) => {
      expect(errorCode(resp)).toBe(code);
      seen.add(code);
    };
    const keyId = await externalKey();
    const p = await call('GetParametersForImport', { KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
    expectCode(await call('ImportKeyMaterial', { KeyId: keyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: randomBytes(256).toString('base64') }), 'InvalidParameter.DecryptMaterialError');
    const material = randomBytes(32);
    expect((await importInto(keyId, 'RSAES_OAEP_SHA_256', 'RSA_2048', material)).Error).toBeUndefined();
    expectCode(await importInto(keyId, 'RSAES_OAEP_SHA_256', 'RSA_2048', randomBytes(32)), 'InvalidParameterValue.MaterialNotMatch');
    expectCode(await call('DescribeKey', { KeyId: 'bad-key-id' }), 'InvalidParameterValue.InvalidKeyId');
    expectCode(await call('DescribeKey', { KeyId: '00000000-0000-0000-0000-000000000000' }), 'ResourceUnavailable.CmkNotFound');
    expectCode(await call('DescribeKey', { KeyId: keyId }, 'other-token'), 'ResourceUnavailable.CmkNotFound');
    const p3 = await call('GetParametersForImport', { KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
    await call('DisableKey', { KeyId: keyId });
    expectCode(await call('ImportKeyMaterial', { KeyId: keyId, ImportToken: p3.ImportToken, EncryptedKeyMaterial: wrapWithOpenssl(p3.PublicKey, 'RSAES_OAEP_SHA_256', material) }), 'ResourceUnavailable.CmkStateNotSupport');
    await call('EnableKey', { KeyId: keyId });
    const kms = (await call('CreateKey', { Alias: 'kms1', Type: 1 })).KeyId;
    expectCode(await call('GetParametersForImport', { KeyId: kms, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }), 'UnsupportedOperation.NotExternalCmk');
    expectCode(await call('ImportKeyMaterial', { KeyId: keyId, ImportToken: p.ImportToken }), 'InvalidParameter');

    // Token expiry through the real process, without sleeping: a second process on the same data
    // with its clock 25 h ahead (the token lifetime is 24 h).
    const key2 = await externalKey();
    const p2 = await call('GetParametersForImport', { KeyId: key2, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
    const later = await startService({ dataDir: dir, authTokens: TOKENS, env: { BYOK_TEST_CLOCK_OFFSET_SECONDS: String(25 * 3600) } });
    try {
      expectCode(await call('ImportKeyMaterial', { KeyId: key2, ImportToken: p2.ImportToken, EncryptedKeyMaterial: wrapWithOpenssl(p2.PublicKey, 'RSAES_OAEP_SHA_256', material) }, 'tc-token', later.url), 'ResourceUnavailable.TokenExpired');
    } finally {
      expect(await later.stop()).toBe(0);
    }

    // The store held by another writer past the busy timeout.
    const db = new Database(join(dir, 'byok.sqlite'));
    db.exec('BEGIN EXCLUSIVE');
    try {
      expectCode(await call('CreateKey', { Alias: 'busy', Type: 2 }), 'UnsupportedOperation.ServiceTemporaryUnavailable');
    } finally {
      db.exec('ROLLBACK');
    }
    // Stored material corrupted behind the service's back: an internal error, with no detail.
    db.prepare('UPDATE keys SET stored_material = ? WHERE key_id = ?').run(Buffer.from('corrupt'), keyId);
    db.close();
    const internal = await call('Encrypt', { KeyId: keyId, Plaintext: 'AAAA' });
    expectCode(internal, 'InternalError');
    expect(internal.Error.Message).toBe('Stored key material could not be opened.');

    expect([...seen].sort()).toEqual([
      'InternalError', 'InvalidParameter', 'InvalidParameter.DecryptMaterialError', 'InvalidParameterValue.InvalidKeyId',
      'InvalidParameterValue.MaterialNotMatch', 'ResourceUnavailable.CmkNotFound', 'ResourceUnavailable.CmkStateNotSupport',
      'ResourceUnavailable.TokenExpired', 'UnsupportedOperation.NotExternalCmk', 'UnsupportedOperation.ServiceTemporaryUnavailable',
    ]);
  });

  it("the seed's own request shape: ValidTo as the string \"0\", the common X-TC-* headers", async () => {
    const keyId = await externalKey();
    const p = await call('GetParametersForImport', { KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
    const r = await postJson(svc.url + '/', {
      ValidTo: '0', KeyId: keyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapWithOpenssl(p.PublicKey, 'RSAES_OAEP_SHA_256', randomBytes(32)),
    }, { 'x-tc-action': 'ImportKeyMaterial', 'x-tc-version': '2019-01-18', 'x-tc-region': 'ap-guangzhou', 'x-tc-timestamp': String(Math.floor(Date.now() / 1000)), authorization: 'Bearer tc-token' });
    expect(r.body).toEqual({ Response: { RequestId: r.headers.get('x-request-id') } });
    const d = await call('DescribeKey', { KeyId: keyId });
    expect(d.KeyMetadata).toMatchObject({ KeyState: 'Enabled', ValidTo: 0 });
    expect(errorCode(await call('ImportKeyMaterial', { ValidTo: 'soon', KeyId: keyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: 'AAAA' }))).toBe('InvalidParameter');
  });

  it('auth and unknown actions', async () => {
    expect(errorCode(await call('DescribeKey', { KeyId: '00000000-0000-0000-0000-000000000000' }, 'wrong'))).toBe('AuthFailure');
    expect(errorCode(await call('DeleteAllKeys', {}))).toBe('InvalidAction');
    expect(errorCode(await call('CreateKey', { Alias: 'x', Type: 2, Surprise: true }))).toBe('InvalidParameter');
    const noAuth = await postJson(svc.url + '/', { KeyId: '00000000-0000-0000-0000-000000000000' }, { 'x-tc-action': 'DescribeKey' });
    expect(noAuth.body.Response.Error).toEqual({ Code: 'AuthFailure', Message: 'Authentication is missing or invalid.' });
    expect(errorCode(await call('CreateKey', { Alias: 'x', Type: '2' }))).toBe('InvalidParameter');
    const badJson = await postJson(svc.url + '/', '{"Alias":', { 'x-tc-action': 'CreateKey', authorization: 'Bearer tc-token' });
    expect(badJson.status).toBe(200);
    expect(badJson.body.Response.Error).toEqual({ Code: 'InvalidParameter', Message: 'The request body is not valid JSON.' });
  });

  it('tenancy: every action on another tenant\'s key is CmkNotFound', async () => {
    const keyId = await externalKey();
    const material = randomBytes(32);
    expect((await importInto(keyId, 'RSAES_OAEP_SHA_256', 'RSA_2048', material)).Error).toBeUndefined();
    const enc = await call('Encrypt', { KeyId: keyId, Plaintext: 'AAAA' });
    for (const [action, body] of [
      ['DescribeKey', { KeyId: keyId }], ['EnableKey', { KeyId: keyId }], ['DisableKey', { KeyId: keyId }],
      ['DeleteImportedKeyMaterial', { KeyId: keyId }], ['Encrypt', { KeyId: keyId, Plaintext: 'AAAA' }],
      ['Decrypt', { CiphertextBlob: enc.CiphertextBlob }],
      ['GetParametersForImport', { KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }],
    ] as const) {
      expect([action, errorCode(await call(action, body, 'other-token'))]).toEqual([action, 'ResourceUnavailable.CmkNotFound']);
    }
    expect((await call('DescribeKey', { KeyId: keyId })).KeyMetadata.KeyState).toBe('Enabled');
  });
});
