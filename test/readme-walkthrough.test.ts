/** The README walk-through, executed as written against a real service (so it cannot rot). */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startService, type RunningService } from './helpers/service.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-walk-'));
let svc: RunningService | undefined;
afterAll(async () => {
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function walkthrough(): { section: string; script: string } {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.split('<!-- walkthrough:start -->')[1]?.split('<!-- walkthrough:end -->')[0];
  if (!section) throw new Error('README has no walk-through section');
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  if (blocks.length === 0) throw new Error('the walk-through has no sh blocks');
  return { section, script: blocks.join('\n') };
}

describe('README walk-through', () => {
  it('runs end to end: create, parameters, OpenSSL wrap, import, encrypt/decrypt both ways, Tencent, byok import', async () => {
    const { section, script } = walkthrough();
    // The start command it shows is the one this test runs (npm start = byok serve).
    expect(section).toContain('BYOK_AUTH_TOKENS="demo-token=demo" npm start');
    expect(JSON.parse(readFileSync('package.json', 'utf8')).scripts.start).toBe('node bin/byok.js serve');
    // The seeds' exact OpenSSL invocation for RSAES_OAEP_SHA_256.
    expect(script).toMatch(/openssl pkeyutl -in PlaintextKeyMaterial\.bin -inkey PublicKey\.bin -out EncryptedKeyMaterial\.bin \\\n\s+-keyform der -pubin -encrypt -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256/);

    svc = await startService({ dataDir: join(dir, 'data'), authTokens: 'demo-token=demo' });
    const work = join(dir, 'work');
    mkdirSync(work);
    symlinkSync(resolve('bin'), join(work, 'bin')); // the walk-through runs from the repository root
    const out = execFileSync('bash', ['-c', `set -euo pipefail\ncd ${JSON.stringify(work)}\n${script}`], {
      env: { ...process.env, BYOK: svc.url, TOKEN: 'demo-token' }, encoding: 'utf8', timeout: 60_000,
    });
    const keyId = /^key: ([0-9a-f-]{36})$/m.exec(out)?.[1];
    expect(keyId).toBeDefined();
    expect(out.split('\n')).toEqual([
      `key: ${keyId}`,
      '{}', // import-key-material's empty success body
      '2',
      'decrypted locally: hello from byok',
      'sealed at home',
      'Enabled',
      expect.stringMatching(/^imported into [0-9a-f-]{36}: key_state 2, key_check_value [0-9a-f]{16}$/),
      '',
    ]);
  });
});
