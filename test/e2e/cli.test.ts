/** The byok CLI as a user runs it: --help everywhere, wrap (every algorithm) and import against the service. */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerDecrypt } from '../helpers/customer.js';
import { postJson, startService, type RunningService } from '../helpers/service.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-cli-'));
let svc: RunningService;
const byok = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['bin/byok.js', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
const api = (action: string) => `${svc.url}/v1.0/p/kms/${action}`;
const auth = { 'x-auth-token': 'cli-token' };

beforeAll(async () => {
  svc = await startService({ dataDir: join(dir, 'data'), authTokens: 'cli-token=cli' });
});
afterAll(async () => {
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('byok CLI', () => {
  it('--help on every command, usage errors exit 2', () => {
    const top = byok(['--help']);
    expect(top.status).toBe(0);
    for (const cmd of ['serve', 'import', 'wrap', 'kat']) {
      expect(top.stdout).toContain(cmd);
      const r = byok([cmd, '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Usage: byok ${cmd}`));
      expect(r.stdout).toMatch(/Exit codes/);
    }
    expect(byok(['nope']).status).toBe(2);
    expect(byok(['wrap']).status).toBe(2);
    expect(byok(['import']).status).toBe(2);
  });

  it.each(['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5', 'SM2_ENCRYPT'])('byok wrap output (%s) imports into the service', async (algorithm) => {
    const keyId = (await postJson(api('create-key'), { key_alias: 'w', origin: 'external' }, auth)).body.key_info.key_id;
    const p = await postJson(api('get-parameters-for-import'), { key_id: keyId, wrapping_algorithm: algorithm }, auth);
    const pub = join(dir, `${algorithm}.pub`);
    const material = randomBytes(32);
    writeFileSync(pub, p.body.public_key); // the API's base64, as returned
    writeFileSync(join(dir, 'm.bin'), material);
    const wrapped = byok(['wrap', '--public-key', pub, '--algorithm', algorithm, '--in', join(dir, 'm.bin')]);
    expect(wrapped.status, wrapped.stderr).toBe(0);
    const r = await postJson(api('import-key-material'), { key_id: keyId, import_token: p.body.import_token, encrypted_key_material: wrapped.stdout.trim() }, auth);
    expect(r.status).toBe(200);
    const enc = await postJson(api('encrypt-data'), { key_id: keyId, plain_text: 'cli' }, auth);
    expect(Buffer.from(customerDecrypt('AES_256', material, Buffer.from(enc.body.cipher_text, 'base64'))).toString()).toBe('cli');
  });

  it('byok import: one step; a refusal exits 1 with one line on stderr', async () => {
    const keyId = (await postJson(api('create-key'), { key_alias: 'i', origin: 'external' }, auth)).body.key_info.key_id;
    writeFileSync(join(dir, 'm1.bin'), randomBytes(32));
    const ok = byok(['import', '--endpoint', svc.url, '--project-id', 'p', '--key-id', keyId, '--in', join(dir, 'm1.bin'), '--algorithm', 'RSAES_PKCS1_V1_5'], { BYOK_AUTH_TOKEN: 'cli-token' });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/key_state 2/);
    writeFileSync(join(dir, 'm2.bin'), randomBytes(32));
    const refused = byok(['import', '--endpoint', svc.url, '--project-id', 'p', '--key-id', keyId, '--in', join(dir, 'm2.bin')], { BYOK_AUTH_TOKEN: 'cli-token' });
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/^byok import: KMS\.2314: The key material is different from the one previously imported\. \(request [0-9a-f-]{36}\)\n$/);
  });

  it('one-line errors and their exit codes: unreachable service 1, missing token 2, a key of the wrong kind 1', async () => {
    writeFileSync(join(dir, 'm3.bin'), randomBytes(32));
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r)); // a port nobody listens on
    const down = byok(['import', '--endpoint', `http://127.0.0.1:${port}`, '--key-id', '00000000-0000-0000-0000-000000000000', '--in', join(dir, 'm3.bin')], { BYOK_AUTH_TOKEN: 't' });
    expect([down.status, down.stderr]).toEqual([1, `byok import: UNREACHABLE: cannot reach http://127.0.0.1:${port} (ECONNREFUSED)\n`]);
    const noToken = byok(['import', '--endpoint', svc.url, '--key-id', 'k', '--in', join(dir, 'm3.bin')], { BYOK_AUTH_TOKEN: '' });
    expect([noToken.status, noToken.stderr]).toEqual([2, 'byok import: set the API token in the environment variable BYOK_AUTH_TOKEN\n']);
    const noFile = byok(['wrap', '--public-key', join(dir, 'absent.pub'), '--algorithm', 'RSAES_OAEP_SHA_256', '--in', join(dir, 'm3.bin')]);
    expect([noFile.status, noFile.stderr.split('\n').length]).toEqual([2, 2]);
    const keyId = (await postJson(api('create-key'), { key_alias: 'w', origin: 'external' }, auth)).body.key_info.key_id;
    const p = await postJson(api('get-parameters-for-import'), { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' }, auth);
    writeFileSync(join(dir, 'rsa.pub'), p.body.public_key);
    const mismatch = byok(['wrap', '--public-key', join(dir, 'rsa.pub'), '--algorithm', 'SM2_ENCRYPT', '--in', join(dir, 'm3.bin')]);
    expect([mismatch.status, mismatch.stderr]).toEqual([1, 'byok wrap: SM2_ENCRYPT needs an SM2 public key.\n']);
    const unknown = byok(['wrap', '--public-key', join(dir, 'rsa.pub'), '--algorithm', 'ROT13', '--in', join(dir, 'm3.bin')]);
    expect([unknown.status, unknown.stderr.split('\n').length]).toEqual([1, 2]);
    // --out writes the file; a PEM public key works as well as the API's base64.
    const pem = `-----BEGIN PUBLIC KEY-----\n${p.body.public_key.match(/.{1,64}/g).join('\n')}\n-----END PUBLIC KEY-----\n`;
    writeFileSync(join(dir, 'rsa.pem'), pem);
    const out = join(dir, 'wrapped.b64');
    expect(byok(['wrap', '--public-key', join(dir, 'rsa.pem'), '--algorithm', 'RSAES_OAEP_SHA_256', '--in', join(dir, 'm3.bin'), '--out', out]).status).toBe(0);
    const r = await postJson(api('import-key-material'), { key_id: keyId, import_token: p.body.import_token, encrypted_key_material: readFileSync(out, 'utf8').trim() }, auth);
    expect(r.status).toBe(200);
  });
});
