/** API tokens → tenants: parsing, precedence, the first-run token file. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfig, serviceConfig } from '../src/config/config.js';
import { AuthTokens, loadAuthTokens, parseTokenPairs } from '../src/server/auth.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('auth tokens', () => {
  it('parses token=tenant pairs, comma or newline separated', () => {
    expect([...parseTokenPairs('a=one, b=two\nc=three,')]).toEqual([['a', 'one'], ['b', 'two'], ['c', 'three']]);
    // Base64 tokens keep their padding: the last '=' splits (tenant names have none).
    expect([...parseTokenPairs('c2VjcmV0==team-a')]).toEqual([['c2VjcmV0=', 'team-a']]);
    expect([...parseTokenPairs('c2VjcmV0===team-a')]).toEqual([['c2VjcmV0==', 'team-a']]);
    for (const bad of ['noequals', '=tenant', 'token=', 'token=a b']) expect(() => parseTokenPairs(bad)).toThrow(/token=tenant pairs/);
  });

  it('maps a token to its tenant; missing or unknown is UNAUTHORIZED', () => {
    const t = new AuthTokens(new Map([['a', 'one'], ['b', 'two']]));
    expect(t.tenantOf('b')).toBe('two');
    for (const bad of [undefined, '', 'c', 'a ']) expect(() => t.tenantOf(bad)).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED' }));
    expect(() => new AuthTokens(new Map())).toThrow(/No API tokens/);
  });

  it('env beats --auth-file beats the data directory file', () => {
    const file = join(dir, 'tokens');
    writeFileSync(file, '{"f": "from-file"}', { mode: 0o600 });
    const auth = (argv: string[], env: NodeJS.ProcessEnv) => serviceConfig(readConfig('serve', ['--data-dir', dir, ...argv], env)).auth;
    expect(auth(['--auth-file', file], { BYOK_AUTH_TOKENS: 'e=from-env' })).toEqual({ tokens: 'e=from-env', source: 'BYOK_AUTH_TOKENS' });
    expect(loadAuthTokens(auth(['--auth-file', file], { BYOK_AUTH_TOKENS: 'e=from-env' })).tokens.tenantOf('e')).toBe('from-env');
    expect(auth(['--auth-file', file], {})).toEqual({ file, createIfMissing: false });
    expect(auth([], {})).toEqual({ file: join(dir, 'auth-tokens.json'), createIfMissing: true });
    const fromFile = loadAuthTokens({ file, createIfMissing: false });
    expect([fromFile.source, fromFile.tokens.tenantOf('f')]).toEqual([file, 'from-file']);
    const broken = join(dir, 'broken');
    writeFileSync(broken, '{"f": ', { mode: 0o600 });
    expect(() => loadAuthTokens({ file: broken, createIfMissing: false })).toThrow(/not valid JSON/);
    writeFileSync(broken, '{"f": 1}');
    expect(() => loadAuthTokens({ file: broken, createIfMissing: false })).toThrow(/tenant names/);
    expect(() => loadAuthTokens({ file: join(dir, 'absent'), createIfMissing: false })).toThrow(/cannot be read \(ENOENT\)/);
  });

  it('first run creates DATA_DIR/auth-tokens.json (0600) with one admin token, reported once', () => {
    const dataDir = join(dir, 'data');
    const first = loadAuthTokens({ file: join(dataDir, 'auth-tokens.json'), createIfMissing: true });
    expect(first.createdAdminToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(first.tokens.tenantOf(first.createdAdminToken!)).toBe('admin');
    const path = join(dataDir, 'auth-tokens.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ [first.createdAdminToken!]: 'admin' });
    const second = loadAuthTokens({ file: join(dataDir, 'auth-tokens.json'), createIfMissing: true });
    expect(second.createdAdminToken).toBeUndefined();
    expect(second.tokens.tenantOf(first.createdAdminToken!)).toBe('admin');
  });

  it('refuses an auth file that group or others can read, as the keys file (issue 14 defect 9)', () => {
    const file = join(dir, 'open-tokens');
    writeFileSync(file, '{"t": "team"}', { mode: 0o600 });
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      chmodSync(file, mode);
      expect(() => loadAuthTokens({ file, createIfMissing: false })).toThrow(
        expect.objectContaining({ code: 'INVALID_PARAMETER', message: `The auth file ${file} must not be accessible by group or others (chmod 600).` }));
    }
    chmodSync(file, 0o400);
    expect(loadAuthTokens({ file, createIfMissing: false }).tokens.tenantOf('t')).toBe('team');
  });
});
