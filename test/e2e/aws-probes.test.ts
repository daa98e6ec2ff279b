/**
 * The probes the public AWS KMS emulators fail (moto, LocalStack, local-kms: the README's
 * table), against the real `byok serve` through @aws-sdk/client-kms: a token for key A into key
 * B; different material on re-import and after DeleteImportedKeyMaterial; bit-flipped
 * ciphertexts and the failure budget; ValidTo expiry back to PendingImport and token expiry (a
 * second process on the same data with its clock ahead: no sleeping); wrong material lengths;
 * ExpirationModel and ValidTo checked as AWS does; two different first imports racing. Each
 * refusal is the AWS exception by name, and changes nothing.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CancelKeyDeletionCommand, CreateKeyCommand, DecryptCommand, DeleteImportedKeyMaterialCommand, DescribeKeyCommand, DisableKeyCommand,
  EnableKeyCommand, EncryptCommand, GetParametersForImportCommand, ImportKeyMaterialCommand, ListKeysCommand, ScheduleKeyDeletionCommand,
  type AlgorithmSpec, type ImportKeyMaterialCommandInput, type KMSClient, type WrappingKeySpec,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kmsClient, wrapForAws } from '../helpers/aws.js';
import { customerDecrypt } from '../helpers/customer.js';
import { startService, type RunningService } from '../helpers/service.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-e2e-aws-probes-'));
const ALICE = { id: 'AKIAALICEEXAMPLE0002', secret: 'alice/Secret+Key/EXAMPLE0000000000000002' };
const BOB = { id: 'AKIABOBEXAMPLE000002', secret: 'bob/Secret+Key/EXAMPLE00000000000000002' };
const TOKENS = 'api-token=alice';
const ACCESS_KEYS = { BYOK_ACCESS_KEYS: `${ALICE.id}:${ALICE.secret}=alice,${BOB.id}:${BOB.secret}=bob` };
let svc: RunningService;
let kms: KMSClient;

beforeAll(async () => {
  svc = await startService({ dataDir: dir, authTokens: TOKENS, env: ACCESS_KEYS, args: ['--log-level', 'warn'] });
  kms = kmsClient(svc.url, ALICE.id, ALICE.secret);
});
afterAll(async () => {
  kms?.destroy();
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const NEVER = { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' } as const;
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function externalKey(client = kms) {
  return (await client.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!;
}

/** SM2 wrapping keys unless a probe needs RSA: their generation costs nothing (an RSA one ~0.1 s, more under load). */
async function parameters(keyId: string, algorithm: AlgorithmSpec = 'SM2PKE', spec: WrappingKeySpec = 'SM2', client = kms) {
  return client.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: spec }));
}

/** Wrap `material` for the parameters and import it; extra fields override. */
async function importWith(keyId: string, p: { PublicKey?: Uint8Array; ImportToken?: Uint8Array }, material: Uint8Array, extra: Partial<ImportKeyMaterialCommandInput> = NEVER, algorithm: AlgorithmSpec = 'SM2PKE', client = kms) {
  return client.send(new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: p.ImportToken!, EncryptedKeyMaterial: wrapForAws(p.PublicKey!, algorithm, material), ...extra }));
}

const state = async (keyId: string, client = kms) => (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState;

/** The AWS exception a call raises (its name), and its HTTP status. */
async function refusal(call: Promise<unknown>): Promise<[string, number | undefined]> {
  try {
    await call;
  } catch (e) {
    const err = e as { name: string; $metadata?: { httpStatusCode?: number } };
    return [err.name, err.$metadata?.httpStatusCode];
  }
  throw new Error('the call succeeded');
}

/** The service seals with the material the customer holds. */
async function sealsWith(keyId: string, material: Uint8Array) {
  const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('probe') }));
  expect(Buffer.from(customerDecrypt('AES_256', material, enc.CiphertextBlob!)).toString()).toBe('probe');
}

describe('the probes the AWS KMS emulators fail, through @aws-sdk/client-kms', () => {
  it('an import token issued for key A is refused for key B (InvalidImportTokenException), and B is unchanged', async () => {
    const [a, b] = [await externalKey(), await externalKey()];
    const pa = await parameters(a.KeyId!, 'RSAES_OAEP_SHA_256', 'RSA_2048');
    expect(await refusal(importWith(b.KeyId!, pa, randomBytes(32), NEVER, 'RSAES_OAEP_SHA_256'))).toEqual(['InvalidImportTokenException', 400]);
    expect(await state(b.KeyId!)).toBe('PendingImport');
    // The token still works for its own key.
    const material = randomBytes(32);
    await importWith(a.KeyId!, pa, material, NEVER, 'RSAES_OAEP_SHA_256');
    await sealsWith(a.KeyId!, material);
  });

  it('different material is refused on re-import and after DeleteImportedKeyMaterial (IncorrectKeyMaterialException); the same material returns', async () => {
    const key = await externalKey();
    const material = randomBytes(32);
    await importWith(key.KeyId!, await parameters(key.KeyId!, 'RSAES_OAEP_SHA_256', 'RSA_2048'), material, NEVER, 'RSAES_OAEP_SHA_256');
    const checkValue = (await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.CurrentKeyMaterialId;
    expect(await refusal(importWith(key.KeyId!, await parameters(key.KeyId!), randomBytes(32)))).toEqual(['IncorrectKeyMaterialException', 400]);
    await sealsWith(key.KeyId!, material);
    // Re-importing the same material (e.g. to change its expiry) is allowed.
    await importWith(key.KeyId!, await parameters(key.KeyId!, 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_2048'), material, NEVER, 'RSA_AES_KEY_WRAP_SHA_256');

    const del = await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.Arn }));
    expect(del).toMatchObject({ KeyId: key.Arn, KeyMaterialId: checkValue });
    expect(await state(key.KeyId!)).toBe('PendingImport');
    expect(await refusal(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })))).toEqual(['KMSInvalidStateException', 400]);
    expect(await refusal(importWith(key.KeyId!, await parameters(key.KeyId!), randomBytes(32)))).toEqual(['IncorrectKeyMaterialException', 400]);
    expect(await state(key.KeyId!)).toBe('PendingImport');
    await importWith(key.KeyId!, await parameters(key.KeyId!, 'SM2PKE', 'SM2'), material, NEVER, 'SM2PKE');
    expect(await state(key.KeyId!)).toBe('Enabled');
    await sealsWith(key.KeyId!, material);
  });

  it('bit-flipped wrapped material: one uniform InvalidCiphertextException, then the token is spent by its failure budget', async () => {
    const key = await externalKey();
    const p = await parameters(key.KeyId!, 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_2048');
    const material = randomBytes(32);
    const good = wrapForAws(p.PublicKey!, 'RSA_AES_KEY_WRAP_SHA_256', material);
    // Bits in the RSA-OAEP half (first, middle, last byte) and in the RFC 5649 half.
    const messages = new Set<string>();
    for (const at of [0, 128, 255, 256, 260, good.length - 1, 3, 200, 270, 280]) {
      const flipped = Buffer.from(good);
      flipped[at]! ^= 0x01;
      try {
        await kms.send(new ImportKeyMaterialCommand({ KeyId: key.KeyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: flipped, ...NEVER }));
        throw new Error(`a flip at byte ${at} was accepted`);
      } catch (e) {
        expect((e as Error).name).toBe('InvalidCiphertextException');
        messages.add((e as Error).message);
      }
    }
    expect(messages.size).toBe(1);
    // Ten failures (the default budget): the right material under this token is now refused too.
    expect(await refusal(kms.send(new ImportKeyMaterialCommand({ KeyId: key.KeyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: good, ...NEVER }))))
      .toEqual(['ExpiredImportTokenException', 400]);
    expect(await state(key.KeyId!)).toBe('PendingImport');
    await importWith(key.KeyId!, await parameters(key.KeyId!), material);

    // A bit-flipped CiphertextBlob does not decrypt, wherever the flip.
    const enc = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('flip me') }));
    for (const at of [0, 20, 40, enc.CiphertextBlob!.length - 1]) {
      const flipped = Buffer.from(enc.CiphertextBlob!);
      flipped[at]! ^= 0x80;
      expect((await refusal(kms.send(new DecryptCommand({ CiphertextBlob: flipped }))))[0]).toBe('InvalidCiphertextException');
    }
  });

  it('wrong material lengths are refused like any bad wrap (InvalidCiphertextException), and the key stays PendingImport', async () => {
    const key = await externalKey();
    // SM2 wrapping keys: a key generation costs nothing, so each length gets fresh parameters.
    for (const length of [1, 16, 31, 33, 64]) {
      expect(await refusal(importWith(key.KeyId!, await parameters(key.KeyId!, 'SM2PKE', 'SM2'), randomBytes(length), NEVER, 'SM2PKE'))).toEqual(['InvalidCiphertextException', 400]);
    }
    expect(await state(key.KeyId!)).toBe('PendingImport');
  });

  it('ExpirationModel and ValidTo are checked as AWS does (ValidationException), before anything changes', async () => {
    const key = await externalKey();
    const material = randomBytes(32);
    const p = await parameters(key.KeyId!);
    const now = nowSeconds();
    for (const extra of [
      {}, // the default model KEY_MATERIAL_EXPIRES needs a ValidTo (local-kms crashes on this request)
      { ExpirationModel: 'KEY_MATERIAL_EXPIRES' as const },
      { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' as const, ValidTo: new Date((now + 3600) * 1000) },
      { ValidTo: new Date((now - 60) * 1000) },
      { ValidTo: new Date((now + 366 * 86400) * 1000) },
    ]) {
      expect(await refusal(importWith(key.KeyId!, p, material, extra))).toEqual(['ValidationException', 400]);
    }
    expect(await state(key.KeyId!)).toBe('PendingImport');
    // None of those counted against the token: it still imports.
    await importWith(key.KeyId!, p, material, { ValidTo: new Date((now + 364 * 86400) * 1000) });
    expect(await state(key.KeyId!)).toBe('Enabled');
  });

  it('two different first imports racing: exactly one succeeds, the other is IncorrectKeyMaterialException', async () => {
    const rounds = 12;
    for (let round = 0; round < rounds; round++) {
      const key = await externalKey();
      const [p1, p2] = await Promise.all([parameters(key.KeyId!, 'SM2PKE', 'SM2'), parameters(key.KeyId!, 'SM2PKE', 'SM2')]);
      const [m1, m2] = [randomBytes(32), randomBytes(32)];
      const [w1, w2] = [wrapForAws(p1.PublicKey!, 'SM2PKE', m1), wrapForAws(p2.PublicKey!, 'SM2PKE', m2)];
      const results = await Promise.allSettled([
        kms.send(new ImportKeyMaterialCommand({ KeyId: key.KeyId, ImportToken: p1.ImportToken, EncryptedKeyMaterial: w1, ...NEVER })),
        kms.send(new ImportKeyMaterialCommand({ KeyId: key.KeyId, ImportToken: p2.ImportToken, EncryptedKeyMaterial: w2, ...NEVER })),
      ]);
      const won = results.map((r) => r.status === 'fulfilled');
      expect(won.filter(Boolean)).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect((lost.reason as Error).name).toBe('IncorrectKeyMaterialException');
      await sealsWith(key.KeyId!, won[0] ? m1 : m2);
    }
  });

  it('ValidTo passes: the key reads PendingImport and refuses use; an old token has expired (a process 25 h ahead on the same data)', async () => {
    const key = await externalKey();
    const material = randomBytes(32);
    const validTo = nowSeconds() + 3600;
    await importWith(key.KeyId!, await parameters(key.KeyId!), material, { ValidTo: new Date(validTo * 1000) });
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata).toMatchObject({ KeyState: 'Enabled', ExpirationModel: 'KEY_MATERIAL_EXPIRES' });
    const other = await externalKey();
    const oldToken = await parameters(other.KeyId!);

    const later = await startService({ dataDir: dir, authTokens: TOKENS, args: ['--log-level', 'warn'], env: { ...ACCESS_KEYS, BYOK_TEST_CLOCK_OFFSET_SECONDS: String(25 * 3600) } });
    // Its signatures are checked against its own clock, which its Date header tells: the SDK's
    // first request there is refused as expired, and it retries with its clock corrected, as against AWS.
    const kmsLater = kmsClient(later.url, ALICE.id, ALICE.secret);
    try {
      expect(await state(key.KeyId!, kmsLater)).toBe('PendingImport');
      expect(await refusal(kmsLater.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })))).toEqual(['KMSInvalidStateException', 400]);
      expect(await refusal(importWith(other.KeyId!, oldToken, randomBytes(32), NEVER, 'SM2PKE', kmsLater))).toEqual(['ExpiredImportTokenException', 400]);
      expect(await state(other.KeyId!, kmsLater)).toBe('PendingImport');
      // Re-importing the same material brings the expired key back.
      await importWith(key.KeyId!, await parameters(key.KeyId!, 'SM2PKE', 'SM2', kmsLater), material, NEVER, 'SM2PKE', kmsLater);
      expect(await state(key.KeyId!, kmsLater)).toBe('Enabled');
    } finally {
      kmsLater.destroy();
      expect(await later.stop()).toBe(0);
    }
  });

  it('tenancy and key IDs: another tenant\'s key, an ARN of another account or region, a malformed ID are NotFoundException', async () => {
    const key = await externalKey();
    const bob = kmsClient(svc.url, BOB.id, BOB.secret);
    try {
      for (const id of [key.KeyId!, key.Arn!]) expect(await refusal(bob.send(new DescribeKeyCommand({ KeyId: id })))).toEqual(['NotFoundException', 400]);
      expect(await refusal(bob.send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }))))
        .toEqual(['NotFoundException', 400]);
    } finally {
      bob.destroy();
    }
    for (const id of [key.Arn!.replace('111122223333', '444455556666'), key.Arn!.replace('us-east-1', 'eu-west-1'), 'not-a-key-id']) {
      expect(await refusal(kms.send(new DescribeKeyCommand({ KeyId: id })))).toEqual(['NotFoundException', 400]);
    }
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.Arn }))).KeyMetadata!.KeyId).toBe(key.KeyId);
  });

  it('SigV4: a wrong secret, an unknown access key, no signature and an unknown operation are the AWS exceptions', async () => {
    for (const [id, secret, name] of [[ALICE.id, 'not-the-secret', 'InvalidSignatureException'], ['AKIAUNKNOWNEXAMPLE00', ALICE.secret, 'UnrecognizedClientException']]) {
      const client = kmsClient(svc.url, id!, secret!);
      try {
        expect(await refusal(client.send(new ListKeysCommand({})))).toEqual([name, 400]);
      } finally {
        client.destroy();
      }
    }
    const post = (target: string, headers: Record<string, string> = {}) => fetch(`${svc.url}/`, {
      method: 'POST', body: '{}', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target, ...headers },
    }).then(async (r) => [r.status, ((await r.json()) as { __type: string }).__type, r.headers.get('content-type')]);
    expect(await post('TrentService.ListKeys')).toEqual([400, 'MissingAuthenticationTokenException', 'application/x-amz-json-1.1']);
    expect(await post('TrentService.ListKeys', { authorization: 'AWS4-HMAC-SHA256 Credential=x' })).toEqual([400, 'IncompleteSignatureException', 'application/x-amz-json-1.1']);
    expect(await post('TrentService.NoSuchOperation')).toEqual([400, 'MissingAuthenticationTokenException', 'application/x-amz-json-1.1']);
    expect(await post('DynamoDB_20120810.ListTables')).toEqual([400, 'UnknownOperationException', 'application/x-amz-json-1.1']);
  });

  it('the key life cycle: DisableKey / EnableKey, ScheduleKeyDeletion / CancelKeyDeletion, each state refusing use', async () => {
    const key = await externalKey();
    const material = randomBytes(32);
    await importWith(key.KeyId!, await parameters(key.KeyId!), material);
    await kms.send(new DisableKeyCommand({ KeyId: key.Arn }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata).toMatchObject({ KeyState: 'Disabled', Enabled: false });
    // AWS's own exception for a use of a disabled key (PendingImport and PendingDeletion: KMSInvalidStateException).
    expect(await refusal(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })))).toEqual(['DisabledException', 400]);
    await kms.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    await sealsWith(key.KeyId!, material);

    const s = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    expect(s).toMatchObject({ KeyId: key.Arn, KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
    expect(Math.abs(s.DeletionDate!.getTime() / 1000 - (nowSeconds() + 7 * 86400))).toBeLessThan(60);
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.DeletionDate).toEqual(s.DeletionDate);
    expect((await refusal(kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 6 }))))[0]).toBe('ValidationException');
    expect((await kms.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }))).KeyId).toBe(key.Arn);
    expect(await state(key.KeyId!)).toBe('Disabled');
  });

  it('CreateKey takes what AWS takes and refuses what this service cannot honour', async () => {
    const create = (input: ConstructorParameters<typeof CreateKeyCommand>[0]) => refusal(kms.send(new CreateKeyCommand(input)));
    expect(await create({ KeySpec: 'ECC_NIST_P256' })).toEqual(['ValidationException', 400]); // ECC keys need KeyUsage SIGN_VERIFY
    expect(await create({ KeySpec: 'HMAC_256', KeyUsage: 'ENCRYPT_DECRYPT' })).toEqual(['ValidationException', 400]);
    expect(await create({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' })).toEqual(['UnsupportedOperationException', 400]);
    expect(await create({ Origin: 'AWS_CLOUDHSM' })).toEqual(['UnsupportedOperationException', 400]);
    expect(await create({ MultiRegion: true })).toEqual(['UnsupportedOperationException', 400]);
    const k = (await kms.send(new CreateKeyCommand({ Description: 'made by the service', Tags: [{ TagKey: 'team', TagValue: 'a' }], Policy: '{}' }))).KeyMetadata!;
    expect(k).toMatchObject({ Origin: 'AWS_KMS', KeyState: 'Enabled', Description: 'made by the service', KeySpec: 'SYMMETRIC_DEFAULT' });
    expect(await refusal(parameters(k.KeyId!))).toEqual(['UnsupportedOperationException', 400]);
  });
});
