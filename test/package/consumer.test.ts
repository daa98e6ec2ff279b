/**
 * The packed package, as a KMS server team and an operator get it (issue 13): pack once, install
 * the tarball into fresh consumer projects, and use it only through `byok-hsm` and its subpaths —
 * ESM and CommonJS, tsc under node16 and bundler resolution, an esbuild bundle with a worker,
 * publint and attw, `examples/`, the CLI — and measure what an engine-only install costs.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSoftHsmToken, softHsmUnavailable } from '../helpers/softhsm.js';
import { cleanEnv, installConsumer, packProject, REPO, run, tarballEntries, tarballFiles, type InstallMeasure, type Tarballs } from './packed-project.js';

const FIXTURES = join(REPO, 'test', 'package', 'consumer');
/** The optional peers: an engine-only install has none of them. */
const OPTIONAL_PEERS = ['better-sqlite3', 'pg', 'fastify', '@fastify/rate-limit', 'pino', 'pkcs11js', 'benny'];
const repoRequire = createRequire(join(REPO, 'package.json'));
const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

const work = mkdtempSync(join(tmpdir(), 'byok-package-'));
const consumer = join(work, 'consumer');
let tarballs: Tarballs;
let install: InstallMeasure;

const node = (args: string[], cwd = consumer) => run(process.execPath, args, cwd);
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;

beforeAll(() => {
  tarballs = packProject(work);
  install = installConsumer(consumer, [tarballs.library]);
  for (const f of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, f), join(consumer, f));
  const mb = (install.kilobytes / 1024).toFixed(1);
  process.stdout.write(`engine-only install of byok-hsm@${version}: ${install.seconds.toFixed(1)} s, ${mb} MiB on disk, ${install.packages} packages, no native build\n`);
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the tarball', () => {
  it('holds the runtime, types, vectors, examples, README, LICENSE and CHANGELOG, and nothing of tests or fuzzing', () => {
    const entries = tarballEntries(tarballs.library);
    const files = entries.map((e) => e.path);
    const packed = readFileSync(tarballs.library).length;
    const unpacked = entries.reduce((sum, e) => sum + e.bytes, 0);
    process.stdout.write(`byok-hsm tarball: ${files.length} files, ${(packed / 1e6).toFixed(2)} MB packed, ${(unpacked / 1e6).toFixed(2)} MB unpacked\n`);
    for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'bin/byok.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/bench/run.js', 'examples/import-flow.mjs']) {
      expect(files, f).toContain(f);
    }
    expect(files.some((f) => f.startsWith('vectors/wycheproof/'))).toBe(true);
    expect(files.filter((f) => /(^|\/)(test|fuzz)\//.test(f) || f.endsWith('.map') || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => /^dist\/bench\/(ct|multi-instance)\./.test(f))).toEqual([]);
    expect(readFileSync(join(consumer, 'node_modules', 'byok-hsm', 'LICENSE'), 'utf8')).toContain('Apache License\n                           Version 2.0');
  });

  it('byok-hsm-service holds its bin, README and LICENSE only', () => {
    expect(tarballFiles(tarballs.service).sort()).toEqual(['LICENSE', 'README.md', 'bin/byok-hsm-service.js', 'package.json']);
  });
});

describe('an engine-only install', () => {
  it('runs no native build and installs no HTTP server', () => {
    const modules = join(consumer, 'node_modules');
    expect(OPTIONAL_PEERS.filter((p) => existsSync(join(modules, p)))).toEqual([]);
    // The addons' sources ship (for `byok build-native`), below the package root, where npm never builds them.
    const native = run('find', [modules, '-name', '*.node', '-o', '-name', 'binding.gyp'], consumer).trim().split('\n').filter(Boolean).map((f) => f.slice(modules.length + 1)).sort();
    expect(native).toEqual(['byok-hsm/native-bindings/pkcs11-attrs/binding.gyp', 'byok-hsm/native-bindings/sm2/binding.gyp']);
  });

  it('refuses the SQLite store with a ByokError naming better-sqlite3, and writes nothing', () => {
    const out = lastJson(node(['missing-peer.mjs']));
    expect(out).toMatchObject({ code: 'DEPENDENCY_MISSING', written: [] });
    expect(out.message).toContain('better-sqlite3');
  });

  it('runs the library flow through the public entry in ESM', () => {
    expect(lastJson(node(['esm.mjs']))).toEqual({
      state: 'Enabled', decrypted: 'through the public entry', mismatch: 'KEY_MATERIAL_MISMATCH', mismatchOnTheWire: 'KMS.2314', reimportedSameMaterial: 'Enabled',
    });
  });

  it('runs the library flow in CommonJS (import(); require() too where Node has require(esm))', () => {
    const out = lastJson(node(['cjs.cjs']));
    expect(out).toMatchObject({ state: 'Enabled', decrypted: 'through the public entry', mismatch: 'KEY_MATERIAL_MISMATCH', reimportedSameMaterial: 'Enabled' });
    expect(out.requiredIsSame).toBe(out.requireModule ? true : null);
  });

  it.each(['node16', 'bundler'])('type-checks a strict consumer under moduleResolution %s', (resolution) => {
    const config = `tsconfig.${resolution}.json`;
    writeFileSync(join(consumer, config), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, target: 'ES2022', lib: ['ES2022'],
        module: resolution === 'node16' ? 'node16' : 'esnext', moduleResolution: resolution,
        // The consumer installs no @types/node of its own: borrow the repository's.
        types: ['node'], typeRoots: [join(REPO, 'node_modules', '@types')],
        // No skipLibCheck: the public types must check without fastify, pg or pkcs11js installed.
      },
      files: ['consumer.ts'],
    }));
    node([repoRequire.resolve('typescript/bin/tsc'), '-p', config]);
  });

  it('bundles with esbuild, the worker as its own entry point, and imports with workers: 1', async () => {
    const out = join(work, 'bundle');
    await build({
      absWorkingDir: consumer,
      entryPoints: { main: 'bundle-entry.mjs', 'private-key-worker': 'byok-hsm/worker' }, // as the README says
      outdir: out, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error',
      // Loaded on demand only (stores, service, device): not part of an engine-only bundle, and
      // split into their own chunks, so that their import() stays lazy in the bundle too.
      external: OPTIONAL_PEERS, splitting: true,
    });
    // Run where no node_modules is reachable: the bundle must be self-contained.
    const elsewhere = mkdtempSync(join(tmpdir(), 'byok-bundle-'));
    try {
      cpSync(out, elsewhere, { recursive: true });
      const result = execFileSync(process.execPath, [join(elsewhere, 'main.js')], { cwd: elsewhere, encoding: 'utf8', timeout: 60_000 });
      expect(lastJson(result)).toEqual({ state: 'Enabled' });
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('runs examples/ from the installed package', () => {
    const examples = join(consumer, 'node_modules', 'byok-hsm', 'examples');
    const names = readdirSync(examples).filter((f) => f.endsWith('.mjs'));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const out = lastJson(node([join(examples, name)]));
      expect(out, name).toMatchObject({ state: 'Enabled', decryptedLocally: 'hello' });
    }
  });

  it('has the byok CLI: --version', () => {
    expect(run(join(consumer, 'node_modules', '.bin', 'byok'), ['--version'], consumer).trim()).toContain(version);
  });

  it('has the byok CLI: bench names benny, the package it needs, when it is not installed', () => {
    const r = spawnSync(join(consumer, 'node_modules', '.bin', 'byok'), ['bench', '--quick'], { cwd: consumer, env: cleanEnv(), encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('npm install benny');
  });

  it('has the byok CLI: kat on the shipped vectors, from any directory', () => {
    expect(run(join(consumer, 'node_modules', '.bin', 'byok'), ['kat'], consumer)).toMatch(/passed/);
  });

  it('passes publint (strict) and @arethetypeswrong/cli', async () => {
    const tarball = readFileSync(tarballs.library);
    const { messages, pkg } = await publint({ pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) }, strict: true });
    const text = messages.map((m) => `${m.type}: ${formatMessage(m, pkg) ?? m.code}`);
    process.stdout.write(`publint: ${text.length ? text.join('\n') : 'no messages'}\n`);
    expect(messages.filter((m) => m.type === 'error')).toEqual([]);
    // ESM only, by design (see the README): CommonJS loads it with import().
    const attw = run(process.execPath, [join(dirname(repoRequire.resolve('@arethetypeswrong/cli/package.json')), 'dist', 'index.js'), tarballs.library, '--profile', 'esm-only', '--format', 'table-flipped'], work);
    process.stdout.write(`attw:\n${attw}\n`);
  });
});

describe('the operator\'s install (byok-hsm-service)', () => {
  const operator = join(work, 'operator');

  beforeAll(() => {
    // The native builds (better-sqlite3, pkcs11js) take minutes on two cores: skip the scripts and
    // give better-sqlite3 the repository's binary of the same version, as a prebuilt would be.
    installConsumer(operator, [tarballs.library, tarballs.service], ['--ignore-scripts']);
    const version = (dir: string) => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    const ours = join(REPO, 'node_modules', 'better-sqlite3');
    const theirs = join(operator, 'node_modules', 'better-sqlite3');
    expect(version(theirs)).toBe(version(ours));
    cpSync(join(ours, 'build'), join(theirs, 'build'), { recursive: true });
  }, 300_000);

  it('declares the service\'s packages the library loads on demand, in the same ranges', () => {
    const lib = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string; peerDependencies: Record<string, string> };
    const svc = JSON.parse(readFileSync(join(REPO, 'service', 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; optionalDependencies: Record<string, string> };
    expect(svc.version).toBe(lib.version);
    expect(svc.dependencies['byok-hsm']).toBe(lib.version);
    const { 'byok-hsm': _, ...deps } = { ...svc.dependencies, ...svc.optionalDependencies };
    expect(deps).toEqual(lib.peerDependencies);
    const bench = createRequire(join(operator, 'node_modules', 'byok-hsm', 'dist', 'bench', 'run.js'));
    for (const p of ['benny', 'fastify', 'pino', 'pg', 'better-sqlite3']) expect(() => bench.resolve(p), p).not.toThrow();
  });

  it.skipIf(softHsmUnavailable() !== undefined)('byok build-native builds the addons in place: the PKCS#11 backend\'s default policy then starts on SoftHSM2', () => {
    // pkcs11js was installed without its build script (above): the repository's binary of the same version.
    const ours = join(REPO, 'node_modules', 'pkcs11js');
    const theirs = join(operator, 'node_modules', 'pkcs11js');
    expect(JSON.parse(readFileSync(join(theirs, 'package.json'), 'utf8')).version).toBe(JSON.parse(readFileSync(join(ours, 'package.json'), 'utf8')).version);
    cpSync(join(ours, 'build'), join(theirs, 'build'), { recursive: true });
    const token = createSoftHsmToken('byok-package');
    if ('skip' in token) throw new Error(token.skip);
    const byok = join(operator, 'node_modules', '.bin', 'byok');
    const report = () => spawnSync(byok, ['pkcs11', 'report', '--pkcs11-module', token.module, '--pkcs11-token-label', token.label], {
      cwd: operator, encoding: 'utf8', env: cleanEnv({ SOFTHSM2_CONF: token.conf, BYOK_PKCS11_PIN: token.pin }),
    });
    // Installed, nothing built: the device refuses to start under the default policy, and says what to run.
    const before = report();
    expect([before.status, before.stderr]).toEqual([1, expect.stringContaining('run: npx byok build-native')]);
    const built = run(byok, ['build-native', '--strict'], operator);
    expect(built).toContain('native-bindings/pkcs11-attrs: built');
    expect(built).toContain('native-bindings/sm2: built');
    const after = report();
    expect(after.status, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/^unwrapTemplate: enforced$/m);
    // The SM2 engine of the installed library is the addon now (byok kat names the engine it runs).
    expect(run(byok, ['kat'], operator)).toMatch(/^SM2 engine: openssl-addon /m);
  }, 240_000);

  it('runs byok through its bin: byok-hsm-service --version', () => {
    expect(run(join(operator, 'node_modules', '.bin', 'byok-hsm-service'), ['--version'], operator).trim()).toContain(version);
  });

  it('serves with one command: byok-hsm-service serve', async () => {
    const bin = join(operator, 'node_modules', '.bin', 'byok-hsm-service');
    const child = spawn(bin, ['serve', '--port', '0', '--data-dir', join(operator, 'data'), '--workers', '0'], {
      cwd: operator, env: cleanEnv({ BYOK_AUTH_TOKENS: 'operator-token=operator' }), stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line:\n${output}`)), 60_000);
        const onData = (d: Buffer) => {
          output += d.toString();
          const m = /byok listening on (http:\/\/\S+)/.exec(output);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', (code) => reject(new Error(`exited ${code}:\n${output}`)));
      });
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      // The console's built assets are in the tarball.
      for (const asset of ['', 'console.js', 'console.css']) expect((await fetch(`${url}/console/${asset}`)).status, asset).toBe(200);
      const created = await fetch(`${url}/v1.0/demo/kms/create-key`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-auth-token': 'operator-token' }, body: JSON.stringify({ key_alias: 'operator-key', origin: 'external' }),
      });
      expect(created.status).toBe(200);
      expect(existsSync(join(operator, 'data', 'byok.sqlite'))).toBe(true);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    }
  });
});
