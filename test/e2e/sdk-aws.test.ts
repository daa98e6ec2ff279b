/**
 * @aws-sdk/client-kms, unmodified (endpoint, region and credentials only), against the real
 * `byok serve`: its SigV4 signature verified (any region), its refusals raised as the AWS
 * exceptions, never read as an empty success. (The AWS import flow itself: aws-import.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, DescribeKeyCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, startService, type RunningService } from '../helpers/service.js';

const ACCESS_KEY_ID = 'AKIABYOKE2E000000001';
const SECRET = 'aws/e2e+secret/0123456789abcdefghijklmn';
const dir = mkdtempSync(join(tmpdir(), 'byok-sdk-aws-'));
let svc: RunningService;

beforeAll(async () => {
  svc = await startService({ dataDir: dir, authTokens: 'aws-token=aws-team', args: ['--key-pool', '0'], env: { BYOK_ACCESS_KEYS: `${ACCESS_KEY_ID}:${SECRET}=aws-team` } });
});
afterAll(async () => {
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const client = (accessKeyId = ACCESS_KEY_ID, secretAccessKey = SECRET) =>
  new KMSClient({ endpoint: svc.url, region: 'eu-west-1', credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });

/** What the client made of the answer: its exception (name, HTTP status), or the output. */
async function outcome(call: Promise<object>): Promise<{ error?: { name: string; status?: number }; output?: object }> {
  try {
    return { output: await call };
  } catch (e) {
    const err = e as { name: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
    // Every refusal carries its request ID too (x-amzn-RequestId), as AWS's do.
    expect(err.$metadata?.requestId).toMatch(/^\S{8,}$/);
    return { error: { name: err.name, status: err.$metadata?.httpStatusCode } };
  }
}

describe('@aws-sdk/client-kms against byok serve', () => {
  it('signed calls are served in any region; the key belongs to the access key\'s tenant', async () => {
    const created = await client().send(new CreateKeyCommand({ Origin: 'EXTERNAL', Description: 'sdk' }));
    const keyId = created.KeyMetadata!.KeyId!;
    expect(created.KeyMetadata).toMatchObject({ Origin: 'EXTERNAL', KeyState: 'PendingImport' });
    // The SDK reads the request ID from x-amzn-RequestId, as from AWS (the same ID as x-request-id).
    expect(created.$metadata.requestId).toMatch(/^\S{8,}$/);
    const listed = await new KMSClient({ endpoint: svc.url, region: 'ap-southeast-3', credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET } }).send(new ListKeysCommand({}));
    expect(listed.Keys!.map((k) => k.KeyId)).toContain(keyId);
  });

  it('refusals are the AWS exceptions the client raises (HTTP 400), never {}', async () => {
    const describe = (c: KMSClient) => outcome(c.send(new DescribeKeyCommand({ KeyId: '00000000-0000-0000-0000-000000000000' })));
    expect(await describe(client('AKIAUNKNOWN000000000', 'x'))).toEqual({ error: { name: 'UnrecognizedClientException', status: 400 } });
    expect(await describe(client(ACCESS_KEY_ID, 'not-the-secret'))).toEqual({ error: { name: 'InvalidSignatureException', status: 400 } });
    expect(await describe(client())).toEqual({ error: { name: 'NotFoundException', status: 400 } });
  });

  it('a POST / that names no operation (no X-Amz-Target, no X-TC-Action) is a 400 with __type, not a 200', async () => {
    const r = await postJson(`${svc.url}/`, {}, { 'content-type': 'application/x-amz-json-1.1' });
    expect([r.status, r.body.__type]).toEqual([400, 'UnknownOperationException']);
  });
});
