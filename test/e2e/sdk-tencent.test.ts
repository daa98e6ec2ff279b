/**
 * tencentcloud-sdk-nodejs's KMS client (kms.v20190118), unmodified — only its endpoint and
 * credentials set — against the real `byok serve`: it signs with TC3-HMAC-SHA256 and reads
 * Tencent's envelope. Create an external key, get import parameters (RSA_2048 with
 * RSAES_OAEP_SHA_256, SM2 with SM2_ENCRYPT), wrap 32 random bytes with the OpenSSL CLI, import,
 * describe, encrypt with an encryption context (checked with the material locally), decrypt,
 * generate a data key; a wrong secret, an unknown SecretId, an unknown key and a wrong context
 * raise the SDK's own exception with Tencent's codes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerDecrypt, wrapWithOpenssl } from '../helpers/customer.js';
import { postJson, startService, type RunningService } from '../helpers/service.js';

const require = createRequire(import.meta.url);
type KmsClient = Record<string, (req: object) => Promise<any>>;
const { Client } = require('tencentcloud-sdk-nodejs/tencentcloud/services/kms/v20190118/kms_client.js') as { Client: new (config: object) => KmsClient };

const SECRET_ID = 'AKIDbyokTencentE2E0000000000000000';
const SECRET_KEY = 'tc-e2e-secret-key-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'byok-sdk-tc-'));
let svc: RunningService;

beforeAll(async () => {
  svc = await startService({
    dataDir: dir, authTokens: 'tc-token=tc-team', args: ['--key-pool', '0'],
    env: { BYOK_ACCESS_KEYS: `${SECRET_ID}:${SECRET_KEY}=tc-team,AKIDother:other-secret=other-team` },
  });
});
afterAll(async () => {
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** An encryption context (a JSON object string, as Tencent takes it) and its associated data: the pairs' UTF-8 JSON sorted by key, no whitespace. */
const CONTEXT = '{"tenant": "tc-team", "purpose": "sdk"}';
const CONTEXT_AAD = new Uint8Array(Buffer.from('{"purpose":"sdk","tenant":"tc-team"}'));

/** The SDK's client as its README configures it: credentials, a region, and the endpoint (here: the local service, over http). */
const client = (secretId = SECRET_ID, secretKey = SECRET_KEY): KmsClient => new Client({
  credential: { secretId, secretKey }, region: 'ap-guangzhou',
  profile: { httpProfile: { endpoint: new URL(svc.url).host, protocol: 'http://' } },
});

/** The SDK's TencentCloudSDKHttpException's code, or 'resolved'. */
async function sdkErrorCode(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'resolved';
  } catch (e) {
    expect((e as Error).constructor.name).toBe('TencentCloudSDKHttpException');
    expect((e as { requestId?: string }).requestId).toMatch(/^[0-9a-f-]{36}$/);
    return (e as { code: string }).code;
  }
}

describe('tencentcloud-sdk-nodejs (kms.v20190118) against byok serve', () => {
  it.each([['RSAES_OAEP_SHA_256', 'RSA_2048'], ['SM2_ENCRYPT', 'SM2']])('the import walk-through: %s with %s', async (algorithm, spec) => {
    const kms = client();
    const created = await kms.CreateKey({ Alias: `sdk-${randomBytes(4).toString('hex')}`, Type: 2, Description: 'imported by the SDK' });
    expect(created).toMatchObject({ KeyState: 'PendingImport', KeyUsage: 'ENCRYPT_DECRYPT' });
    const keyId = created.KeyId as string;
    const params = await kms.GetParametersForImport({ KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: spec });
    expect(params.KeyId).toBe(keyId);
    expect(params.ParametersValidTo).toBeGreaterThan(Date.now() / 1000);
    const material = randomBytes(32);
    await kms.ImportKeyMaterial({ KeyId: keyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapWithOpenssl(params.PublicKey, algorithm, material), ValidTo: 0 });
    const { KeyMetadata } = await kms.DescribeKey({ KeyId: keyId });
    expect(KeyMetadata).toMatchObject({ KeyId: keyId, KeyState: 'Enabled', Origin: 'EXTERNAL', Type: 2, ValidTo: 0 });
    const plaintext = Buffer.from(`sdk plaintext ${spec}`);
    const enc = await kms.Encrypt({ KeyId: keyId, Plaintext: plaintext.toString('base64'), EncryptionContext: CONTEXT });
    expect(enc.KeyId).toBe(keyId);
    // The customer's own copy of the material opens what the service sealed, bound to the context.
    expect(Buffer.from(customerDecrypt('AES_256', material, Buffer.from(enc.CiphertextBlob, 'base64'), CONTEXT_AAD))).toEqual(plaintext);
    const dec = await kms.Decrypt({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: CONTEXT });
    expect([dec.KeyId, Buffer.from(dec.Plaintext, 'base64')]).toEqual([keyId, plaintext]);
    expect(await sdkErrorCode(kms.Decrypt({ CiphertextBlob: enc.CiphertextBlob }))).toBe('InvalidParameter');
    expect(await sdkErrorCode(kms.Decrypt({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: '{"purpose":"other"}' }))).toBe('InvalidParameter');
    // A data key under the imported key: its plaintext is what the blob holds, for the customer too.
    const dk = await kms.GenerateDataKey({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: CONTEXT });
    const dataKey = Buffer.from(dk.Plaintext, 'base64');
    expect(dataKey).toHaveLength(32);
    expect(Buffer.from(customerDecrypt('AES_256', material, Buffer.from(dk.CiphertextBlob, 'base64'), CONTEXT_AAD))).toEqual(dataKey);
    expect(Buffer.from((await kms.Decrypt({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: CONTEXT })).Plaintext, 'base64')).toEqual(dataKey);
  });

  it('refusals are the SDK\'s exceptions with Tencent\'s codes', async () => {
    expect(await sdkErrorCode(client(SECRET_ID, 'not-the-secret').DescribeKey({ KeyId: '00000000-0000-0000-0000-000000000000' }))).toBe('AuthFailure.SignatureFailure');
    expect(await sdkErrorCode(client('AKIDunknown', SECRET_KEY).DescribeKey({ KeyId: '00000000-0000-0000-0000-000000000000' }))).toBe('AuthFailure.SecretIdNotFound');
    expect(await sdkErrorCode(client().DescribeKey({ KeyId: '00000000-0000-0000-0000-000000000000' }))).toBe('ResourceUnavailable.CmkNotFound');
    // Another tenant's key does not exist for this caller.
    const keyId = (await client().CreateKey({ Alias: `mine-${randomBytes(3).toString('hex')}`, Type: 2 })).KeyId;
    expect(await sdkErrorCode(client('AKIDother', 'other-secret').DescribeKey({ KeyId: keyId }))).toBe('ResourceUnavailable.CmkNotFound');
  });

  it('answers with Content-Type application/json exactly (the Python SDK reads errors from no other)', async () => {
    const r = await postJson(`${svc.url}/`, { KeyId: 'x' }, { 'x-tc-action': 'DescribeKey', authorization: 'Bearer wrong' });
    expect([r.status, r.headers.get('content-type'), r.body.Response.Error.Code]).toEqual([200, 'application/json', 'AuthFailure']);
    const ok = await postJson(`${svc.url}/`, { Alias: 'ct' }, { 'x-tc-action': 'CreateKey', authorization: 'Bearer tc-token' });
    expect([ok.status, ok.headers.get('content-type')]).toEqual([200, 'application/json']);
  });
});
