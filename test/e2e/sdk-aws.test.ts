/**
 * @aws-sdk/client-kms, unmodified (endpoint, region and credentials only), against the real
 * `byok serve`: whatever the service answers, the client never reads it as an empty success —
 * a `POST /` that no dialect serves is a 400 with `__type`, which the client raises.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeKeyCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type RunningService } from '../helpers/service.js';

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
    const err = e as { name: string; $metadata?: { httpStatusCode?: number } };
    return { error: { name: err.name, status: err.$metadata?.httpStatusCode } };
  }
}

describe('@aws-sdk/client-kms against byok serve', () => {
  it('an unknown access key is an error the client raises, never {}', async () => {
    const r = await outcome(client('AKIAUNKNOWN000000000', 'x').send(new DescribeKeyCommand({ KeyId: 'alias/none' })));
    expect(r.output).toBeUndefined();
    expect(r.error!.status).toBe(400);
    expect(r.error!.name).toMatch(/^(UnknownOperationException|UnrecognizedClientException)$/);
  });

  it('a signed call is raised as an error or answered in full: never an empty success', async () => {
    const r = await outcome(client().send(new ListKeysCommand({})));
    if (r.error) {
      // Before the AWS dialect serves the call: a 400 UnknownOperationException.
      expect(r.error).toEqual({ name: 'UnknownOperationException', status: 400 });
    } else {
      // Once it does: a real ListKeys answer.
      expect((r.output as { Keys?: unknown }).Keys).toBeInstanceOf(Array);
    }
  });
});
