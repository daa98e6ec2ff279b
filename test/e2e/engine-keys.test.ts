/**
 * `byok serve` with engine keys that are not its store's exits 1 before listening (issue 14,
 * defect 1): a data directory whose keys.json went missing, and keys from the environment that
 * differ from the store's. Restored, the same key works again.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { postJson, runServeExpectingExit, startService } from '../helpers/service.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-engine-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const dataDir = join(dir, 'data');
const auth = { 'x-auth-token': 'k-token' };
const env = { BYOK_AUTH_TOKENS: 'k-token=p' };

describe('byok serve refuses engine keys that are not its store\'s', () => {
  it('missing keys.json, then other keys in the environment: exit 1 before listening; restored, the key decrypts again', async () => {
    const first = await startService({ dataDir, authTokens: env.BYOK_AUTH_TOKENS });
    const api = (action: string) => `${first.url}/v1.0/p/kms/${action}`;
    const keyId = (await postJson(api('create-key'), { key_alias: 'bound', origin: 'kms' }, auth)).body.key_info.key_id as string;
    const cipher = (await postJson(api('encrypt-data'), { key_id: keyId, plain_text: 'kept' }, auth)).body.cipher_text as string;
    expect(await first.stop()).toBe(0);

    renameSync(join(dataDir, 'keys.json'), join(dir, 'keys.backup.json'));
    const missing = await runServeExpectingExit(['--port', '0', '--data-dir', dataDir], env);
    expect(missing.code).toBe(1);
    expect(missing.output).toMatch(/^byok serve: .*keys\.json is missing, and the key store has been used/m);
    expect(missing.output).not.toMatch(/listening/);

    const b64 = () => randomBytes(32).toString('base64');
    const other = await runServeExpectingExit(['--port', '0', '--data-dir', dataDir], { ...env, BYOK_MASTER_KEY: b64(), BYOK_TOKEN_SEALING_KEY: b64(), BYOK_COMMITMENT_KEY: b64() });
    expect(other.code).toBe(1);
    expect(other.output).toMatch(/^byok serve: The engine keys do not belong to this key store .*: the commitment key differs; master key mk1, which the store knows, is missing /m);
    expect(other.output).not.toMatch(/listening/);

    renameSync(join(dir, 'keys.backup.json'), join(dataDir, 'keys.json'));
    const again = await startService({ dataDir, authTokens: env.BYOK_AUTH_TOKENS });
    try {
      const dec = await postJson(`${again.url}/v1.0/p/kms/decrypt-data`, { cipher_text: cipher }, auth);
      expect([dec.status, dec.body.plain_text]).toEqual([200, 'kept']);
    } finally {
      await again.stop();
    }
  }, 120_000);
});
