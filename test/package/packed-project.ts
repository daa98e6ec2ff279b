/**
 * The project as its users get it: packed from a staged copy (so building for the tarball never
 * touches the dist/ the other tests run), then installed into throw-away consumer projects with
 * the ordinary npm client, offline-first from the npm cache.
 */
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/** Top-level entries a pack never needs: built output, tests, local state. */
const NOT_STAGED = new Set(['.git', 'node_modules', 'dist', 'test', 'data', 'docs', 'coverage', '.tmp', '.fuzz-out']);

/**
 * The environment without npm's per-run variables: `npm test` exports npm_config_* and
 * npm_package_* of this repository, which would make a child npm act on the repository.
 */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** Run a command; on failure the error carries its whole output. */
export function run(file: string, args: readonly string[], cwd: string, options: ExecFileSyncOptions = {}): string {
  try {
    return execFileSync(file, args, { cwd, env: cleanEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...options }) as string;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${file} ${args.join(' ')} (in ${cwd}) failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

export interface Tarballs {
  /** byok-hsm-<version>.tgz */
  readonly library: string;
  /** byok-hsm-service-<version>.tgz */
  readonly service: string;
}

function packDir(dir: string, dest: string): string {
  const before = new Set(readdirSync(dest));
  run('npm', ['pack', '--pack-destination', dest], dir); // runs prepare (the build) as a publish would
  const made = readdirSync(dest).filter((f) => f.endsWith('.tgz') && !before.has(f));
  if (made.length !== 1) throw new Error(`npm pack in ${dir} made ${made.length} tarballs`);
  return join(dest, made[0]);
}

/** Stage the project (sources, no dist) in `workDir`, then pack the library and the service. */
export function packProject(workDir: string): Tarballs {
  const stage = join(workDir, 'stage');
  const dest = join(workDir, 'tarballs');
  mkdirSync(dest, { recursive: true });
  for (const entry of readdirSync(REPO)) {
    if (NOT_STAGED.has(entry)) continue;
    cpSync(join(REPO, entry), join(stage, entry), { recursive: true, filter: (src) => !src.includes('/bench/results') });
  }
  symlinkSync(join(REPO, 'node_modules'), join(stage, 'node_modules'), 'dir'); // the build's tsc and types
  return { library: packDir(stage, dest), service: packDir(join(stage, 'service'), dest) };
}

/** The files inside a tarball (paths without npm's `package/` prefix) and their sizes. */
export function tarballEntries(tarball: string): Array<{ path: string; bytes: number }> {
  return run('tar', ['-tvzf', tarball], REPO).split('\n').filter((l) => l.startsWith('-')).map((line) => {
    const [, , size, , , ...rest] = line.trim().split(/\s+/);
    return { path: rest.join(' ').replace(/^package\//, ''), bytes: Number(size) };
  });
}

/** The paths inside a tarball. */
export function tarballFiles(tarball: string): string[] {
  return tarballEntries(tarball).map((e) => e.path);
}

export interface InstallMeasure {
  readonly seconds: number;
  /** Size on disk of node_modules (du). */
  readonly kilobytes: number;
  /** Packages installed, byok-hsm included. */
  readonly packages: number;
}

/** A fresh consumer project in `dir` with `specs` installed from the npm cache (network if missing). */
export function installConsumer(dir: string, specs: readonly string[], flags: readonly string[] = []): InstallMeasure {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2));
  const start = performance.now();
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...flags, ...specs], dir);
  const seconds = (performance.now() - start) / 1000;
  const lock = JSON.parse(readFileSync(join(dir, 'node_modules', '.package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
  const kilobytes = Number(run('du', ['-sk', 'node_modules'], dir).split(/\s/)[0]);
  return { seconds, kilobytes, packages: Object.keys(lock.packages).filter((p) => p.startsWith('node_modules/')).length };
}
