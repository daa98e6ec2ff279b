/**
 * The per-tenant rate limits reach `byok serve` from its flags (issue 14, fair use): with
 * `--rate-limit-get-parameters 1`, a burst of get-parameters-for-import by one tenant gets the
 * Huawei rate-limit answer; the in-process test (test/server-rate-limit.test.ts) covers the rest.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, startService, type RunningService } from '../helpers/service.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-e2e-rate-'));
const A = { 'x-auth-token': 'token-a' };
let svc: RunningService;
const api = (action: string) => `${svc.url}/v1.0/p/kms/${action}`;

describe('byok serve --rate-limit-get-parameters', () => {
  beforeAll(async () => {
    svc = await startService({ dataDir: dir, authTokens: 'token-a=tenant-a', args: ['--rate-limit-get-parameters', '1', '--log-level', 'warn'] });
  });
  afterAll(async () => {
    await svc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a burst over the limit with 429 APIG.0308, Retry-After and x-request-id', async () => {
    const keyId = (await postJson(api('create-key'), { key_alias: 'rl', origin: 'external' }, A)).body.key_info.key_id as string;
    const burst = await Promise.all([0, 1, 2].map(() => postJson(api('get-parameters-for-import'), { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' }, A)));
    const refused = burst.filter((r) => r.status === 429);
    expect(burst.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) {
      expect(r.body).toEqual({ error_code: 'APIG.0308', error_msg: 'Too many requests; retry later.', request_id: r.headers.get('x-request-id') });
      expect(r.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
      expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
