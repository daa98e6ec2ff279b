/**
 * @huaweicloud/huaweicloud-sdk-core — the Huawei SDK's own AK/SK signer (SDK-HMAC-SHA256) and
 * HTTP client, as every generated Huawei service client drives it (its KMS package is published
 * for Python only) — against the real `byok serve`: the import walk-through through the Huawei
 * routes (RSA_2048 with RSAES_OAEP_SHA_256, SM2 with SM2_ENCRYPT, wrapped by the OpenSSL CLI),
 * describe, encrypt with additional_authenticated_data (checked locally), decrypt, a data key;
 * a wrong SK, an unknown AK, another project, an unknown key and the wrong AAD raise the SDK's
 * ClientRequestException.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerDecrypt, wrapWithOpenssl } from '../helpers/customer.js';
import { startService, type RunningService } from '../helpers/service.js';

const require = createRequire(import.meta.url);
interface HcClient { sendRequest(options: object): Promise<any> }
const { BasicCredentials } = require('@huaweicloud/huaweicloud-sdk-core') as { BasicCredentials: new () => any };
const { ClientBuilder } = require('@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js') as { ClientBuilder: new (init: (c: HcClient) => HcClient) => any };

const AK = 'HPUABYOKE2E000000001';
const SK = 'hw-e2e-secret-key-0123456789abcdefghij';
const PROJECT = '0b5f0a2c7e8b4c61a3a3c2d1e0f9a8b7';
const dir = mkdtempSync(join(tmpdir(), 'byok-sdk-hw-'));
let svc: RunningService;

beforeAll(async () => {
  svc = await startService({
    dataDir: dir, authTokens: 'hw-token=hw-team', args: ['--key-pool', '0'],
    env: { BYOK_ACCESS_KEYS: `${AK}:${SK}=hw-team/${PROJECT},HPUAOTHER:other-sk=other-team` },
  });
});
afterAll(async () => {
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A client as the generated Huawei clients build theirs: BasicCredentials (AK, SK, project ID) and an endpoint. */
function client(ak = AK, sk = SK, projectId = PROJECT): HcClient {
  const credentials = new BasicCredentials().withAk(ak).withSk(sk).withProjectId(projectId);
  const hc = new ClientBuilder((c) => c).withCredential(credentials).withEndpoint(svc.url).build() as HcClient & { httpClient: { _logger: object } };
  // Its HTTP client logs every refused request at ERROR on stdout (headers and all): quiet for the test output; behaviour unchanged.
  hc.httpClient._logger = { debug() {}, info() {}, warn() {}, error() {} };
  return hc;
}

/** One KMS call the way the generated KmsClient sends it: POST /v1.0/{project_id}/kms/<action>, JSON body. */
function kms(c: HcClient, action: string, data: object): Promise<any> {
  return c.sendRequest({
    method: 'POST', url: `/v1.0/{project_id}/kms/${action}`, contentType: 'application/json;charset=UTF-8',
    queryParams: {}, pathParams: {}, headers: {}, data, responseHeaders: ['X-Request-Id'],
  });
}

/** The SDK's exception: its class, HTTP status and error code. */
async function sdkError(call: Promise<unknown>): Promise<[string, number, string | undefined]> {
  try {
    await call;
    return ['resolved', 200, undefined];
  } catch (e) {
    const err = e as { constructor: { name: string }; httpStatusCode: number; errorCode?: string; requestId?: string };
    expect(err.requestId).toMatch(/^[0-9a-f-]{36}$/);
    return [err.constructor.name, err.httpStatusCode, err.errorCode];
  }
}

describe('@huaweicloud/huaweicloud-sdk-core (AK/SK) against byok serve', () => {
  it.each([['RSAES_OAEP_SHA_256', 'RSA_2048'], ['SM2_ENCRYPT', 'SM2']])('the import walk-through: %s with %s', async (algorithm, spec) => {
    const c = client();
    const created = await kms(c, 'create-key', { key_alias: `sdk-${randomBytes(4).toString('hex')}`, origin: 'external' });
    expect(created.httpStatusCode).toBe(200);
    expect(created['X-Request-Id']).toMatch(/^[0-9a-f-]{36}$/);
    const keyId = created.key_info.key_id as string;
    expect(created.key_info.domain_id).toBe('hw-team');
    const params = await kms(c, 'get-parameters-for-import', { key_id: keyId, wrapping_algorithm: algorithm, wrapping_key_spec: spec });
    const material = randomBytes(32);
    await kms(c, 'import-key-material', { key_id: keyId, import_token: params.import_token, encrypted_key_material: wrapWithOpenssl(params.public_key, algorithm, material) });
    const described = await kms(c, 'describe-key', { key_id: keyId });
    expect(described.key_info).toMatchObject({ key_id: keyId, key_state: '2', origin: 'external' });
    const aad = { additional_authenticated_data: 'sdk-e2e' };
    const enc = await kms(c, 'encrypt-data', { key_id: keyId, plain_text: `sdk plaintext ${spec}`, ...aad });
    // The customer's own copy of the material opens it, bound to the AAD's UTF-8.
    expect(Buffer.from(customerDecrypt('AES_256', material, Buffer.from(enc.cipher_text, 'base64'), new Uint8Array(Buffer.from('sdk-e2e')))).toString()).toBe(`sdk plaintext ${spec}`);
    const dec = await kms(c, 'decrypt-data', { cipher_text: enc.cipher_text, ...aad });
    expect([dec.key_id, dec.plain_text]).toEqual([keyId, `sdk plaintext ${spec}`]);
    expect((await sdkError(kms(c, 'decrypt-data', { cipher_text: enc.cipher_text })))[1]).toBe(400);
    // A data key (hex on Huawei's wire): the blob holds the plaintext it returned.
    const dk = await kms(c, 'create-datakey', { key_id: keyId, datakey_length: '256', ...aad });
    const dataKey = Buffer.from(dk.plain_text, 'hex');
    expect(dataKey).toHaveLength(32);
    expect(Buffer.from(customerDecrypt('AES_256', material, Buffer.from(dk.cipher_text, 'hex'), new Uint8Array(Buffer.from('sdk-e2e'))))).toEqual(dataKey);
    const opened = await kms(c, 'decrypt-datakey', { key_id: keyId, cipher_text: dk.cipher_text, datakey_cipher_length: '32', ...aad });
    expect(opened.data_key).toBe(dk.plain_text);
  });

  it('refusals raise the SDK\'s ClientRequestException: APIG.0301 (401) for the signature, APIG.0302 (403) for another project, 404 for an unknown key', async () => {
    const describe = (c: HcClient) => kms(c, 'describe-key', { key_id: '00000000-0000-0000-0000-000000000000' });
    expect(await sdkError(describe(client(AK, 'not-the-sk')))).toEqual(['ClientRequestException', 401, 'APIG.0301']);
    expect(await sdkError(describe(client('HPUAUNKNOWN000000000', SK)))).toEqual(['ClientRequestException', 401, 'APIG.0301']);
    expect(await sdkError(describe(client(AK, SK, 'another-project')))).toEqual(['ClientRequestException', 403, 'APIG.0302']);
    // KMS's own errors are nested under "error", which the Node core SDK does not read a code from: the status tells.
    expect((await sdkError(describe(client())))).toEqual(['ClientRequestException', 404, undefined]);
    // An unbound key reaches any project, but not another tenant's keys.
    const keyId = (await kms(client(), 'create-key', { key_alias: 'mine', origin: 'external' })).key_info.key_id;
    expect((await sdkError(kms(client('HPUAOTHER', 'other-sk', 'p2'), 'describe-key', { key_id: keyId })))[1]).toBe(404);
  });
});
