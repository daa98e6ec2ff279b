/** The README walk-through, executed as written against a real service (so it cannot rot). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

function walkthroughScript(): string {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.split('<!-- walkthrough:start -->')[1]?.split('<!-- walkthrough:end -->')[0];
  if (!section) throw new Error('README has no walk-through section');
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  expect(blocks.length).toBeGreaterThan(0);
  return blocks.join('\n');
}

describe('README walk-through', () => {
  it('runs end to end: create, parameters, OpenSSL wrap, import, encrypt, local decrypt, byok import', async () => {
    expect(readFileSync('README.md', 'utf8')).toContain('BYOK_AUTH_TOKENS="demo-token=demo" npm start');
    svc = await startService({ dataDir: join(dir, 'data'), authTokens: 'demo-token=demo' });
    const work = join(dir, 'work');
    execFileSync('mkdir', ['-p', work]);
    const script = `set -euo pipefail\ncd ${JSON.stringify(work)}\nln -s ${JSON.stringify(resolve('bin'))} bin\n` + walkthroughScript();
    const out = execFileSync('bash', ['-c', script], { env: { ...process.env, BYOK: svc.url, TOKEN: 'demo-token' }, encoding: 'utf8', timeout: 60_000 });
    expect(out).toMatch(/^key: [0-9a-f-]{36}$/m);
    expect(out).toMatch(/^2$/m);
    expect(out).toContain('decrypted locally: hello from byok');
    expect(out).toMatch(/imported into [0-9a-f-]{36}: key_state 2, key_check_value [0-9a-f]{16}/);
  });
});
