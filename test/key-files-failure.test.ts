/**
 * A failing write leaves nothing behind (issue 14, defect 9): a full disk while keys.json is
 * written at start, or while it is rotated, or while the first-run auth-tokens.json is written,
 * leaves no `*.json.tmp-*` and no half-written file, and the
 * failure is a ByokError naming the file and the errno. The disk is made full by failing
 * node:fs's writeSync or fsyncSync (ENOSPC / EIO) for these files' temp files only.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

const failing = vi.hoisted(() => ({ call: undefined as undefined | 'writeSync' | 'fsyncSync', fds: new Set<number>() }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const fail = (code: string) => Object.assign(new Error(`${code}: injected`), { code });
  const patched = {
    ...fs,
    // Remember the temp file's descriptor, so only its writes fail (SQLite writes through its own C code).
    openSync: ((path: string, ...rest: never[]) => {
      const fd = (fs.openSync as (...a: unknown[]) => number)(path, ...rest);
      if (/(keys|auth-tokens)\.json\.tmp-/.test(String(path))) failing.fds.add(fd);
      return fd;
    }) as typeof fs.openSync,
    writeSync: ((fd: number, ...rest: never[]) => {
      if (failing.call === 'writeSync' && failing.fds.has(fd)) throw fail('ENOSPC');
      return (fs.writeSync as (...a: unknown[]) => number)(fd, ...rest);
    }) as typeof fs.writeSync,
    fsyncSync: ((fd: number) => {
      if (failing.call === 'fsyncSync' && failing.fds.has(fd)) throw fail('EIO');
      return fs.fsyncSync(fd);
    }) as typeof fs.fsyncSync,
  };
  return { ...patched, default: patched };
});

const { openEngine } = await import('../src/open-engine.js');
const { generateEngineKeys, rotateEngineKey, writeEngineKeysFile } = await import('../src/config/key-files.js');
const { loadAuthTokens } = await import('../src/server/auth.js');

const dir = mkdtempSync(join(tmpdir(), 'byok-key-files-failure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  failing.call = undefined;
  failing.fds.clear();
});

describe('a failing keys-file write leaves nothing behind', () => {
  it.each(['writeSync', 'fsyncSync'] as const)('first start with %s failing: openEngine fails, no keys.json, no temp file', async (call) => {
    const dataDir = join(dir, `start-${call}`);
    failing.call = call;
    const err = await openEngine({ dataDir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ByokError', code: 'INTERNAL_ERROR', message: `The keys file ${join(dataDir, 'keys.json')} could not be written (${call === 'writeSync' ? 'ENOSPC' : 'EIO'}).` });
    expect(readdirSync(dataDir).filter((f) => f.startsWith('keys.json'))).toEqual([]);
    // The disk has room again: the next start creates the keys (the store is still new).
    failing.call = undefined;
    const engine = await openEngine({ dataDir });
    await engine.createKey({ tenant: 't' });
    await engine.close();
    expect(readdirSync(dataDir).filter((f) => f.startsWith('keys.json'))).toEqual(['keys.json']);
  });

  it('writeEngineKeysFile with the disk full: no file, no temp file', () => {
    const dataDir = join(dir, 'write');
    failing.call = 'writeSync';
    expect(() => writeEngineKeysFile(dataDir, generateEngineKeys())).toThrow(/could not be written \(ENOSPC\)/);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('rotation with the disk full: the old keys.json stays as it was, no temp file', () => {
    const dataDir = join(dir, 'rotate');
    writeEngineKeysFile(dataDir, generateEngineKeys());
    const before = readFileSync(join(dataDir, 'keys.json'), 'utf8');
    failing.call = 'fsyncSync';
    expect(() => rotateEngineKey(dataDir, 'master')).toThrow(/could not be written \(EIO\)/);
    expect(readdirSync(dataDir)).toEqual(['keys.json']);
    expect(readFileSync(join(dataDir, 'keys.json'), 'utf8')).toBe(before);
    expect(existsSync(join(dataDir, 'keys.json'))).toBe(true);
  });

  it.each(['writeSync', 'fsyncSync'] as const)('the first-run auth file with %s failing: no auth-tokens.json (not even an empty one), no temp file, no token printed', (call) => {
    const dataDir = join(dir, `auth-${call}`);
    const file = join(dataDir, 'auth-tokens.json');
    failing.call = call;
    expect(() => loadAuthTokens({ file, createIfMissing: true })).toThrow(
      expect.objectContaining({ code: 'INTERNAL_ERROR', message: `The auth file ${file} could not be written (${call === 'writeSync' ? 'ENOSPC' : 'EIO'}).` }));
    expect(readdirSync(dataDir)).toEqual([]);
    failing.call = undefined;
    const created = loadAuthTokens({ file, createIfMissing: true });
    expect(created.tokens.tenantOf(created.createdAdminToken!)).toBe('admin');
    expect(readdirSync(dataDir)).toEqual(['auth-tokens.json']);
  });
});
