/**
 * The one configuration reader: flag > environment > file > default for every setting, the
 * config files, typed values, usage rules, and the options it builds for the service.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pkcs11Options, readConfig, serviceConfig } from '../src/config/config.js';
import { SETTINGS } from '../src/config/settings.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

describe('one precedence: flag > environment > file > default', () => {
  it('applies to every layer of one setting', () => {
    const config = file('all.json', { port: 7003 });
    expect(readConfig('serve', [], {}).settings.port).toBe(8080);
    expect(readConfig('serve', ['--config', config], {}).settings.port).toBe(7003);
    expect(readConfig('serve', ['--config', config], { BYOK_PORT: '7002' }).settings.port).toBe(7002);
    const flagged = readConfig('serve', ['--config', config, '--port', '7001'], { BYOK_PORT: '7002' });
    expect([flagged.settings.port, flagged.sources.port]).toEqual([7001, 'flag']);
    // An empty variable is unset; BYOK_CONFIG names the file when --config does not.
    expect(readConfig('serve', [], { BYOK_PORT: '', BYOK_CONFIG: config }).sources.port).toBe('file');
  });

  it('one key-pool default for the service (4), whatever the library default is', () => {
    expect(serviceConfig(readConfig('serve', [], {})).engine.wrappingKeyPoolDepth).toBe(4);
    expect(serviceConfig(readConfig('serve', [], { BYOK_KEY_POOL: '0' })).engine.wrappingKeyPoolDepth).toBe(0);
  });

  it('per-tenant rate limits of the expensive calls: 100/s each by default (Tencent\'s documented ImportKeyMaterial limit), 0 turns one off', () => {
    expect(serviceConfig(readConfig('serve', [], {})).rateLimits).toEqual({ getParametersForImport: 100, importKeyMaterial: 100 });
    const set = serviceConfig(readConfig('serve', ['--rate-limit-import', '0'], { BYOK_RATE_LIMIT_GET_PARAMETERS: '7' }));
    expect(set.rateLimits).toEqual({ getParametersForImport: 7, importKeyMaterial: 0 });
    expect(() => readConfig('serve', ['--rate-limit-import=-1'], {})).toThrow(/--rate-limit-import must be an integer in range/);
  });

  it('--pkcs11-config holds the pkcs11 section alone and wins over the --config file\'s section', () => {
    const config = file('dev.json', { backend: 'pkcs11', pkcs11: { pin: 'from-config', sessions: 2, modulePath: '/m.so' } });
    const pinFile = file('pin.json', { pin: 'from-pin-file', allowHostOaepDecode: true });
    const c = readConfig('serve', ['--config', config, '--pkcs11-config', pinFile], {});
    expect(pkcs11Options(c)).toEqual({
      modulePath: '/m.so', pin: 'from-pin-file', sessions: 2, allowHostOaepDecode: true, tokenLifetimeSeconds: 86400, unwrapTemplatePolicy: 'required',
    });
    const env = readConfig('kat', ['--pkcs11-config', pinFile, '--pkcs11-slot', '3'], { BYOK_PKCS11_PIN: 'from-env', BYOK_PKCS11_MODULE: '/e.so', BYOK_PKCS11_KWP_MECHANISM: '0x210B' });
    expect(pkcs11Options(env)).toMatchObject({ modulePath: '/e.so', pin: 'from-env', slotIndex: 3, kwpMechanism: 0x210b });
    expect(() => pkcs11Options(readConfig('kat', [], { BYOK_PKCS11_MODULE: '/e.so' }))).toThrow(expect.objectContaining({ code: 'BACKEND_UNAVAILABLE' }));
  });

  it('refuses what it does not know, with the place that said it', () => {
    const bad = (argv: string[], env: NodeJS.ProcessEnv = {}) => () => readConfig('serve', argv, env);
    expect(bad(['--port', 'eighty'])).toThrow('--port must be an integer in range');
    expect(bad([], { BYOK_WORKERS: '-1' })).toThrow('BYOK_WORKERS must be an integer in range');
    expect(bad(['--config', file('typo.json', { prot: 1 })])).toThrow(/unknown key 'prot'/);
    expect(bad(['--config', file('type.json', { port: '80' })])).not.toThrow();
    expect(bad(['--config', file('type2.json', { host: 80 })])).toThrow(/host in .* must be a string/);
    expect(bad(['--config', file('broken.json', '{')])).toThrow(/is not valid JSON/);
    expect(bad(['--config', join(dir, 'absent.json')])).toThrow(/cannot be read \(ENOENT\)/);
    expect(bad(['--backend', 'quantum'])).toThrow(/--backend must be one of pure\|pkcs11/);
    expect(bad(['--frobnicate'])).toThrow(/Unknown option '--frobnicate'/);
    expect(bad(['--pkcs11-module', '/x.so'])).toThrow('--pkcs11-* options need --backend pkcs11');
    expect(bad(['--store', 'mysql://u:secret@h/db'])).toThrow(/unknown store/);
    expect(bad(['--store', 'mysql://u:secret@h/db'])).not.toThrow(/secret/);
    // A variable of another command is never read: `byok wrap` does not care about BYOK_PORT.
    expect(() => readConfig('wrap', [], { BYOK_PORT: 'x' })).not.toThrow();
    // Secrets have no flag.
    expect(() => readConfig('serve', ['--pkcs11-pin', '1234'])).toThrow(/Unknown option/);
  });

  it('builds the service options: listener, engine, backend, auth', () => {
    const b64 = () => randomBytes(32).toString('base64');
    const env = { BYOK_MASTER_KEY: b64(), BYOK_TOKEN_SEALING_KEY: b64(), BYOK_COMMITMENT_KEY: b64(), BYOK_MASTER_KEY_ID: 'mk9', BYOK_TEST_CLOCK_OFFSET_SECONDS: '60' };
    const s = serviceConfig(readConfig('serve', ['--data-dir', dir, '--store', 'postgres://u@h/db', '--workers', '2', '--port', '0'], env));
    expect(s.listen).toEqual({ host: '127.0.0.1', port: 0 });
    expect(s.engine).toMatchObject({ dataDir: dir, workers: 2, tokenLifetimeSeconds: 86400, store: 'postgres://u@h/db', sqliteBusyTimeoutMs: 10000 });
    expect(s.engine.keys?.master.map((k) => k.id)).toEqual(['mk9']);
    expect(s.engine.clock!.now() - Date.now()).toBeGreaterThan(59_000);
    expect([s.backend, s.auth, s.logLevel]).toEqual(['pure', { file: join(dir, 'auth-tokens.json'), createIfMissing: true }, 'info']);
    expect(() => serviceConfig(readConfig('serve', [], { BYOK_MASTER_KEY: b64() }))).toThrow(/together/);
  });

  it('every setting is reachable somewhere, and no two settings of one command share a flag or variable', () => {
    for (const [name, d] of Object.entries(SETTINGS) as Array<[string, { flag?: string; env?: string; file?: string }]>) {
      expect([name, Boolean(d.flag || d.env || d.file)]).toEqual([name, true]);
    }
    for (const command of ['serve', 'kat', 'import', 'wrap'] as const) {
      const own = Object.values(SETTINGS).filter((d) => (d.commands as readonly string[]).includes(command));
      for (const key of ['flag', 'env'] as const) {
        const names = own.map((d) => (d as { flag?: string; env?: string })[key]).filter(Boolean);
        expect(new Set(names).size, `${command} ${key}`).toBe(names.length);
      }
    }
  });
});
