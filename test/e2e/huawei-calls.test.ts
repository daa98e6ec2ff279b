/**
 * The Huawei actions an imported key is for, against the real service: list-keys (limit /
 * marker, key_state / key_spec filters), schedule / cancel-key-deletion, create-datakey(-without-
 * plaintext) and decrypt-datakey, gen-random, additional_authenticated_data as associated data,
 * SM2PKE, sign / verify with message_type DIGEST (Huawei's default; verified by the OpenSSL CLI),
 * and every field huaweicloudsdkkms 3.1.211's models declare for these actions (their
 * `openapi_types`, listed below: the Python SDK cannot be installed here): each request field
 * accepted, each response field present.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerDecrypt, customerEncrypt, wrapWithOpenssl } from '../helpers/customer.js';
import { postJson, startService, type RunningService } from '../helpers/service.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-e2e-hw-calls-'));
let svc: RunningService;
const alice = { 'x-auth-token': 'alice-token' };
const bob = { 'x-auth-token': 'bob-token' };
const api = (action: string) => `${svc.url}/v1.0/proj-1/kms/${action}`;

beforeAll(async () => {
  svc = await startService({ dataDir: dir, authTokens: 'alice-token=alice,bob-token=bob' });
});
afterAll(async () => {
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** huaweicloudsdkkms 3.1.211, v2/model/*.py `openapi_types`: the request bodies and responses of the calls served. */
const MODEL = {
  CreateKeyRequestBody: ['key_alias', 'key_spec', 'key_usage', 'key_description', 'origin', 'enterprise_project_id', 'sequence', 'keystore_id', 'vm_id'],
  KeKInfo: ['key_id', 'domain_id', 'region_id'],
  KeyDetails: ['key_id', 'domain_id', 'key_alias', 'realm', 'key_spec', 'key_usage', 'key_description', 'creation_date', 'scheduled_deletion_date',
    'key_state', 'default_key_flag', 'key_type', 'expiration_time', 'origin', 'key_rotation_enabled', 'sys_enterprise_project_id', 'keystore_id'],
  ListKeysRequestBody: ['limit', 'marker', 'key_state', 'key_spec', 'enterprise_project_id', 'sequence'],
  ListKeysResponse: ['keys', 'key_details', 'next_marker', 'truncated', 'total'],
  OperateKeyRequestBody: ['key_id', 'sequence'],
  KeyStatusInfo: ['key_id', 'key_state'],
  ScheduleKeyDeletionRequestBody: ['key_id', 'pending_days', 'sequence'],
  CreateDatakeyRequestBody: ['key_id', 'key_spec', 'datakey_length', 'additional_authenticated_data', 'sequence', 'pin', 'pin_type'],
  CreateDatakeyResponse: ['key_id', 'plain_text', 'cipher_text'],
  CreateDatakeyWithoutPlaintextResponse: ['key_id', 'cipher_text'],
  EncryptDatakeyRequestBody: ['key_id', 'plain_text', 'datakey_plain_length', 'additional_authenticated_data', 'sequence', 'pin', 'pin_type', 'key_spec'],
  EncryptDatakeyResponse: ['key_id', 'cipher_text', 'datakey_length'],
  DecryptDatakeyRequestBody: ['key_id', 'cipher_text', 'datakey_cipher_length', 'additional_authenticated_data', 'sequence'],
  DecryptDatakeyResponse: ['data_key', 'datakey_length', 'datakey_dgst'],
  EncryptDataRequestBody: ['key_id', 'plain_text', 'encryption_algorithm', 'additional_authenticated_data', 'sequence'],
  EncryptDataResponse: ['key_id', 'cipher_text'],
  DecryptDataRequestBody: ['cipher_text', 'encryption_algorithm', 'key_id', 'additional_authenticated_data', 'sequence'],
  DecryptDataResponse: ['key_id', 'plain_text', 'plain_text_base64'],
  GenRandomRequestBody: ['random_data_length', 'sequence'],
  CreateRandomResponse: ['random_data'],
  GetParametersForImportRequestBody: ['key_id', 'wrapping_algorithm', 'sequence'],
  ImportKeyMaterialRequestBody: ['key_id', 'import_token', 'encrypted_key_material', 'encrypted_privatekey', 'expiration_time', 'sequence'],
  SignRequestBody: ['key_id', 'message', 'signing_algorithm', 'message_type', 'sequence'],
  SignResponse: ['key_id', 'signature'],
  VerifyRequestBody: ['key_id', 'message', 'signature', 'signing_algorithm', 'message_type', 'sequence'],
  ValidateSignatureResponse: ['key_id', 'signature_valid'],
} as const;

const SEQ = '919c82d4-8046-4722-9094-35c3c6524cff';
/** A request with every field of a model, from the values given (the rest from `common`). */
function every(model: keyof typeof MODEL, values: Record<string, unknown>) {
  const common: Record<string, unknown> = { sequence: SEQ, enterprise_project_id: '0', keystore_id: 'ks-1', vm_id: 'vm-1', pin: '1234', pin_type: 'static' };
  return Object.fromEntries(MODEL[model].map((f) => [f, values[f] ?? common[f]]).filter(([, v]) => v !== undefined));
}
function expectFields(body: Record<string, unknown>, model: keyof typeof MODEL) {
  for (const f of MODEL[model]) expect(body, `${model}.${f}`).toHaveProperty(f);
}

async function ok(action: string, body: Record<string, unknown>, headers = alice) {
  const r = await postJson(api(action), body, headers);
  expect(r.status, `${action}: ${JSON.stringify(r.body)}`).toBe(200);
  return r.body;
}
const fails = async (action: string, body: Record<string, unknown>, headers = alice) => {
  const r = await postJson(api(action), body, headers);
  return [r.status, r.body.error?.error_code];
};

async function importedKey(algorithm = 'RSAES_OAEP_SHA_256', spec = 'AES_256', length = 32) {
  const created = await ok('create-key', { key_alias: 'k-' + randomBytes(3).toString('hex'), key_spec: spec, origin: 'external' });
  const keyId = created.key_info.key_id as string;
  const p = await ok('get-parameters-for-import', { key_id: keyId, wrapping_algorithm: algorithm });
  const material = new Uint8Array(randomBytes(length));
  const wire = algorithm === 'SM2PKE' ? 'SM2_ENCRYPT' : algorithm;
  await ok('import-key-material', { key_id: keyId, import_token: p.import_token, encrypted_key_material: wrapWithOpenssl(p.public_key, wire, material) });
  return { keyId, material };
}

describe('Huawei: the calls an imported key is for', () => {
  it('every request field the SDK models declare is accepted; every response field they declare is present', async () => {
    const created = await ok('create-key', every('CreateKeyRequestBody', { key_alias: 'all-fields', key_spec: 'AES_256', key_usage: 'ENCRYPT_DECRYPT', key_description: 'd', origin: 'external' }));
    expectFields(created.key_info, 'KeKInfo');
    expect(created.key_info).toMatchObject({ domain_id: 'alice', region_id: 'local' });
    const keyId = created.key_info.key_id as string;
    const p = await ok('get-parameters-for-import', every('GetParametersForImportRequestBody', { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' }));
    const material = new Uint8Array(randomBytes(32));
    await ok('import-key-material', every('ImportKeyMaterialRequestBody', {
      key_id: keyId, import_token: p.import_token, encrypted_key_material: wrapWithOpenssl(p.public_key, 'RSAES_OAEP_SHA_256', material), expiration_time: 0,
    }));
    const described = await ok('describe-key', every('OperateKeyRequestBody', { key_id: keyId }));
    expectFields(described.key_info, 'KeyDetails');
    expect(described.key_info).toMatchObject({
      key_id: keyId, domain_id: 'alice', key_alias: 'all-fields', realm: 'local', key_spec: 'AES_256', key_usage: 'ENCRYPT_DECRYPT', key_description: 'd',
      scheduled_deletion_date: '', key_state: '2', default_key_flag: '0', key_type: '1', expiration_time: '', origin: 'external',
      key_rotation_enabled: 'false', sys_enterprise_project_id: '0', keystore_id: '',
    });
    const listed = await ok('list-keys', every('ListKeysRequestBody', { limit: '10', key_state: '2', key_spec: 'ALL' }));
    expectFields(listed, 'ListKeysResponse');
    expectFields((await ok('disable-key', every('OperateKeyRequestBody', { key_id: keyId }))).key_info, 'KeyStatusInfo');
    expectFields((await ok('enable-key', every('OperateKeyRequestBody', { key_id: keyId }))).key_info, 'KeyStatusInfo');

    const aad = 'all-fields aad';
    const dk = await ok('create-datakey', every('CreateDatakeyRequestBody', { key_id: keyId, key_spec: 'AES_256', datakey_length: '256', additional_authenticated_data: aad }));
    expectFields(dk, 'CreateDatakeyResponse');
    expectFields(await ok('create-datakey-without-plaintext', every('CreateDatakeyRequestBody', { key_id: keyId, key_spec: 'AES_128', additional_authenticated_data: aad })), 'CreateDatakeyWithoutPlaintextResponse');
    const own = randomBytes(32);
    const wrapped = await ok('encrypt-datakey', every('EncryptDatakeyRequestBody', {
      key_id: keyId, plain_text: Buffer.concat([own, createHash('sha256').update(own).digest()]).toString('hex'), datakey_plain_length: '32',
      additional_authenticated_data: aad, key_spec: 'RSA',
    }));
    expectFields(wrapped, 'EncryptDatakeyResponse');
    expect((await ok('decrypt-datakey', { key_id: keyId, cipher_text: wrapped.cipher_text, additional_authenticated_data: aad })).data_key).toBe(own.toString('hex'));
    const opened = await ok('decrypt-datakey', every('DecryptDatakeyRequestBody', { key_id: keyId, cipher_text: dk.cipher_text, datakey_cipher_length: '64', additional_authenticated_data: aad }));
    expectFields(opened, 'DecryptDatakeyResponse');
    const enc = await ok('encrypt-data', every('EncryptDataRequestBody', { key_id: keyId, plain_text: 'x', encryption_algorithm: 'SYMMETRIC_DEFAULT', additional_authenticated_data: aad }));
    expectFields(enc, 'EncryptDataResponse');
    expectFields(await ok('decrypt-data', every('DecryptDataRequestBody', { cipher_text: enc.cipher_text, encryption_algorithm: 'SYMMETRIC_DEFAULT', key_id: keyId, additional_authenticated_data: aad })), 'DecryptDataResponse');
    expectFields(await ok('gen-random', every('GenRandomRequestBody', { random_data_length: '512' })), 'CreateRandomResponse');
    expectFields(await ok('schedule-key-deletion', every('ScheduleKeyDeletionRequestBody', { key_id: keyId, pending_days: '7' })), 'KeyStatusInfo');
    expectFields(await ok('cancel-key-deletion', every('OperateKeyRequestBody', { key_id: keyId })), 'KeyStatusInfo');
    // Unknown fields are still refused.
    expect(await fails('describe-key', { key_id: keyId, no_such_field: '1' })).toEqual([400, 'KMS.2300']);
  });

  it('data keys: hex cipher_text the customer opens with its own material and the AAD; decrypt-datakey with its digest; sizes', async () => {
    const { keyId, material } = await importedKey();
    const aad = 'tenant=alice;purpose=dek';
    const dk = await ok('create-datakey', { key_id: keyId, key_spec: 'AES_128', additional_authenticated_data: aad });
    expect(dk.key_id).toBe(keyId);
    const plain = Buffer.from(dk.plain_text, 'hex');
    expect(plain).toHaveLength(16);
    const blob = Buffer.from(dk.cipher_text, 'hex');
    expect(Buffer.from(customerDecrypt('AES_256', material, blob, Buffer.from(aad)))).toEqual(plain);
    expect(await ok('decrypt-datakey', { key_id: keyId, cipher_text: dk.cipher_text, datakey_cipher_length: '16', additional_authenticated_data: aad }))
      .toEqual({ data_key: dk.plain_text, datakey_length: '16', datakey_dgst: createHash('sha256').update(plain).digest('hex') });
    expect(await fails('decrypt-datakey', { key_id: keyId, cipher_text: dk.cipher_text })).toEqual([400, 'KMS.2319']);
    expect(await fails('decrypt-datakey', { key_id: keyId, cipher_text: dk.cipher_text, additional_authenticated_data: 'other' })).toEqual([400, 'KMS.2319']);
    const other = await importedKey();
    expect(await fails('decrypt-datakey', { key_id: other.keyId, cipher_text: dk.cipher_text, additional_authenticated_data: aad })).toEqual([400, 'KMS.2319']);
    expect(await fails('decrypt-datakey', { key_id: keyId, cipher_text: dk.cipher_text, additional_authenticated_data: aad }, bob)).toEqual([404, 'KMS.2301']);

    const blind = await ok('create-datakey-without-plaintext', { key_id: keyId, datakey_length: 8192 });
    expect(blind.plain_text).toBeUndefined();
    expect(customerDecrypt('AES_256', material, Buffer.from(blind.cipher_text, 'hex'))).toHaveLength(1024);
    // Neither given: 256 bits; both: datakey_length wins; SM4 and HMAC specs by their sizes.
    expect(Buffer.from((await ok('create-datakey', { key_id: keyId })).plain_text, 'hex')).toHaveLength(32);
    expect(Buffer.from((await ok('create-datakey', { key_id: keyId, key_spec: 'AES_256', datakey_length: '64' })).plain_text, 'hex')).toHaveLength(8);
    expect(Buffer.from((await ok('create-datakey', { key_id: keyId, key_spec: 'HMAC_512' })).plain_text, 'hex')).toHaveLength(64);
    for (const bad of [{ datakey_length: '7' }, { datakey_length: '12' }, { datakey_length: '8200' }, { key_spec: 'AES_512' }]) {
      expect(await fails('create-datakey', { key_id: keyId, ...bad }), JSON.stringify(bad)).toEqual([400, 'KMS.2300']);
    }
  });

  it('additional_authenticated_data binds encrypt-data / decrypt-data; encrypt-datakey checks the data key\'s SM3 under an SM4 key', async () => {
    const { keyId, material } = await importedKey('SM2PKE', 'SM4', 16);
    const own = randomBytes(24);
    const sent = (digest: Buffer) => ({ key_id: keyId, plain_text: Buffer.concat([own, digest]).toString('hex'), datakey_plain_length: 24 });
    const wrapped = await ok('encrypt-datakey', sent(createHash('sm3').update(own).digest()));
    expect(wrapped.datakey_length).toBe('24');
    expect(Buffer.from(customerDecrypt('SM4_128', material, Buffer.from(wrapped.cipher_text, 'hex')))).toEqual(own);
    expect(await fails('encrypt-datakey', sent(createHash('sha256').update(own).digest()))).toEqual([400, 'KMS.2300']);
    expect(await fails('encrypt-datakey', { ...sent(createHash('sm3').update(own).digest()), datakey_plain_length: 23 })).toEqual([400, 'KMS.2300']);
    const enc = await ok('encrypt-data', { key_id: keyId, plain_text: 'bound', additional_authenticated_data: 'ctx' });
    expect(Buffer.from(customerDecrypt('SM4_128', material, Buffer.from(enc.cipher_text, 'base64'), Buffer.from('ctx'))).toString()).toBe('bound');
    expect((await ok('decrypt-data', { cipher_text: enc.cipher_text, additional_authenticated_data: 'ctx' })).plain_text).toBe('bound');
    expect(await fails('decrypt-data', { cipher_text: enc.cipher_text })).toEqual([400, 'KMS.2319']);
    const mine = customerEncrypt(keyId, 'SM4_128', material, Buffer.from('mine'), Buffer.from('c2'));
    expect((await ok('decrypt-data', { cipher_text: Buffer.from(mine).toString('base64'), additional_authenticated_data: 'c2' })).plain_text).toBe('mine');
    expect(await fails('encrypt-data', { key_id: keyId, plain_text: 'x', additional_authenticated_data: 'a'.repeat(129) })).toEqual([400, 'KMS.2300']);
  });

  it('list-keys: limit and marker page through, key_spec defaults to AES_256 (ALL for every spec), key_state filters', async () => {
    const made: string[] = [];
    for (const spec of ['AES_256', 'AES_256', 'SM4', 'AES_256']) made.push((await ok('create-key', { key_alias: 'l', key_spec: spec, origin: 'external' }, bob)).key_info.key_id);
    await ok('disable-key', { key_id: (await ok('create-key', { key_alias: 'kms', key_spec: 'AES_256' }, bob)).key_info.key_id }, bob);
    const all = await ok('list-keys', { key_spec: 'ALL' }, bob);
    expect([all.total, all.truncated, all.next_marker]).toEqual([5, 'false', '']);
    const aes = (await ok('list-keys', {}, bob));
    expect(aes.total).toBe(4);
    expect(aes.key_details.every((k: { key_spec: string }) => k.key_spec === 'AES_256')).toBe(true);
    const seen: string[] = [];
    let marker = '';
    for (let pages = 1; ; pages++) {
      const page = await ok('list-keys', { limit: '2', key_spec: 'ALL', ...(marker ? { marker } : {}) }, bob);
      expect(page.keys).toEqual(page.key_details.map((k: { key_id: string }) => k.key_id));
      seen.push(...page.keys);
      if (page.truncated === 'false') {
        expect(pages).toBe(3);
        break;
      }
      marker = page.next_marker;
    }
    expect(seen).toEqual(all.keys);
    // Oldest first, by creation second and then key ID: every key once.
    expect(new Set(seen).size).toBe(5);
    for (const id of made) expect(seen).toContain(id);
    expect((await ok('list-keys', { key_state: '5', key_spec: 'ALL' }, bob)).total).toBe(4);
    expect((await ok('list-keys', { key_state: '3' }, bob)).key_details.map((k: { key_state: string }) => k.key_state)).toEqual(['3']);
    expect((await ok('list-keys', { key_state: '1', key_spec: 'ALL' }, bob)).total).toBe(0);
    expect(await fails('list-keys', { limit: '0' }, bob)).toEqual([400, 'KMS.2300']);
    expect(await fails('list-keys', { marker: 'no marker!' }, bob)).toEqual([400, 'KMS.2300']);
  });

  it('schedule-key-deletion (7 to 1096 days, as a string or a number) and cancel-key-deletion', async () => {
    const { keyId } = await importedKey();
    const before = Date.now();
    expect(await ok('schedule-key-deletion', { key_id: keyId, pending_days: '7' })).toEqual({ key_id: keyId, key_state: '4' });
    const info = (await ok('describe-key', { key_id: keyId })).key_info;
    expect(Number(info.scheduled_deletion_date)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 7 * 86400_000);
    expect(await fails('encrypt-data', { key_id: keyId, plain_text: 'x' })).toEqual([400, 'KMS.2315']);
    expect(await fails('schedule-key-deletion', { key_id: keyId, pending_days: 1097 })).toEqual([400, 'KMS.2300']);
    expect(await fails('schedule-key-deletion', { key_id: keyId, pending_days: '6' })).toEqual([400, 'KMS.2300']);
    expect(await ok('cancel-key-deletion', { key_id: keyId })).toEqual({ key_id: keyId, key_state: '3' });
    expect(await fails('cancel-key-deletion', { key_id: keyId })).toEqual([400, 'KMS.2315']);
    expect(await ok('schedule-key-deletion', { key_id: keyId, pending_days: 1096 })).toEqual({ key_id: keyId, key_state: '4' });
  });

  it('gen-random: random_data_length in bits, 8 to 8192, multiples of 8, hex out', async () => {
    const r = await ok('gen-random', { random_data_length: '512' });
    expect(r.random_data).toMatch(/^[0-9a-f]{128}$/);
    expect((await ok('gen-random', { random_data_length: 8192 })).random_data).toHaveLength(2048);
    for (const n of ['0', '7', '12', '8200']) expect(await fails('gen-random', { random_data_length: n }), n).toEqual([400, 'KMS.2300']);
  });

  it('sign and verify: message_type DIGEST by default (Huawei\'s), RAW when asked; OpenSSL verifies both', async () => {
    const created = await ok('create-key', { key_alias: 'ec', key_spec: 'EC_P256', key_usage: 'SIGN_VERIFY' });
    const keyId = created.key_info.key_id as string;
    const pub = await ok('get-publickey', { key_id: keyId });
    writeFileSync(join(dir, 'pub.der'), Buffer.from(pub.public_key, 'base64'));
    execFileSync('openssl', ['pkey', '-pubin', '-inform', 'DER', '-in', 'pub.der', '-out', 'pub.pem'], { cwd: dir });
    const message = randomBytes(300);
    writeFileSync(join(dir, 'msg'), message);
    const digest = createHash('sha256').update(message).digest();
    const verifiedByOpenssl = (signature: string) => {
      writeFileSync(join(dir, 'sig'), Buffer.from(signature, 'base64'));
      return execFileSync('openssl', ['dgst', '-sha256', '-verify', 'pub.pem', '-signature', 'sig', 'msg'], { cwd: dir }).toString();
    };
    const overDigest = await ok('sign', { key_id: keyId, message: digest.toString('base64'), signing_algorithm: 'ECDSA_SHA_256' });
    expect(verifiedByOpenssl(overDigest.signature)).toMatch(/Verified OK/);
    const raw = await ok('sign', { key_id: keyId, message: message.toString('base64'), signing_algorithm: 'ECDSA_SHA_256', message_type: 'RAW' });
    expect(verifiedByOpenssl(raw.signature)).toMatch(/Verified OK/);
    for (const signature of [overDigest.signature, raw.signature]) {
      expect(await ok('verify', { key_id: keyId, message: digest.toString('base64'), signature, signing_algorithm: 'ECDSA_SHA_256', message_type: 'DIGEST' }))
        .toEqual({ key_id: keyId, signature_valid: 'true' });
    }
    expect((await ok('verify', { key_id: keyId, message: message.toString('base64'), signature: overDigest.signature, signing_algorithm: 'ECDSA_SHA_256', message_type: 'RAW' })).signature_valid).toBe('true');
    // A raw message sent as the default DIGEST is refused by its length, never signed as a hash.
    expect(await fails('sign', { key_id: keyId, message: message.toString('base64'), signing_algorithm: 'ECDSA_SHA_256' })).toEqual([400, 'KMS.2300']);
  });
});
