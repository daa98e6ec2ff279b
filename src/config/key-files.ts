/**
 * The engine's secrets: master keys (seal material at rest), token-sealing keys (seal import
 * tokens) and the commitment key (keys material commitments). Generated in memory
 * (`generateEngineKeys`), taken from environment variables (`engineKeysFromEnv`, given the
 * environment: this module never reads `process.env` itself), or read from and written to
 * `<dataDir>/keys.json` (mode 0600, written whole and atomically, never overwritten).
 *
 * Rotation: put a new key first in `master` or `tokenSealing` (with a new ID; `rotateEngineKey`
 * does it) and keep the old ones after it. New material / tokens use the first key; older ones
 * open with the key their ID names. Drop an old token-sealing key once every token it sealed has
 * expired (24 h by default); never drop a master key: the store remembers every one it was used
 * with and refuses keys without it (src/engine/key-binding.ts). The commitment key cannot
 * rotate: commitments made under it must stay comparable.
 *
 * Failures leave nothing behind: a write that fails (a full disk) removes its temp file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineKeys, NamedKey } from '../engine/key-binding.js';
import { ByokError } from '../errors.js';
import { readSecretFile, writeSecretFile } from './secret-file.js';

export type { EngineKeys, NamedKey } from '../engine/key-binding.js';

interface KeysFile {
  version: 1;
  master: Array<{ id: string; key: string }>;
  tokenSealing: Array<{ id: string; key: string }>;
  commitment: string;
}

/** The keys file's name inside the data directory. */
export const ENGINE_KEYS_FILE = 'keys.json';

function decode32(b64: string, what: string): Uint8Array {
  const key = typeof b64 === 'string' ? new Uint8Array(Buffer.from(b64, 'base64')) : new Uint8Array(0);
  if (key.length !== 32) throw new ByokError('INVALID_PARAMETER', `${what} must be 32 bytes of base64.`);
  return key;
}

/** IDs name keys inside sealed blobs and tokens: non-empty, short, unique within a list. */
function checkIds(list: readonly NamedKey[], what: string): readonly NamedKey[] {
  const seen = new Set<string>();
  for (const k of list) {
    if (typeof k.id !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(k.id)) throw new ByokError('INVALID_PARAMETER', `${what}: key IDs must be 1-64 characters of [A-Za-z0-9._-].`);
    if (seen.has(k.id)) throw new ByokError('INVALID_PARAMETER', `${what}: duplicate key ID ${k.id}.`);
    seen.add(k.id);
  }
  return list;
}

/** Fresh random keys, in memory only (`writeEngineKeysFile` keeps them). */
export function generateEngineKeys(): EngineKeys {
  return {
    master: [{ id: 'mk1', key: new Uint8Array(randomBytes(32)) }],
    tokenSealing: [{ id: 'tk1', key: new Uint8Array(randomBytes(32)) }],
    commitment: new Uint8Array(randomBytes(32)),
  };
}

function toFile(keys: EngineKeys): KeysFile {
  const b64 = (k: NamedKey) => ({ id: k.id, key: Buffer.from(k.key).toString('base64') });
  return { version: 1, master: keys.master.map(b64), tokenSealing: keys.tokenSealing.map(b64), commitment: Buffer.from(keys.commitment).toString('base64') };
}

/** `id:base64,id:base64` (env form of older keys, current first). */
function parseKeyList(value: string | undefined, what: string): NamedKey[] {
  if (!value) return [];
  return value.split(',').map((entry) => {
    const at = entry.indexOf(':');
    if (at <= 0) throw new ByokError('INVALID_PARAMETER', `${what} must be a list of id:base64 entries.`);
    return { id: entry.slice(0, at).trim(), key: decode32(entry.slice(at + 1).trim(), what) };
  });
}

/**
 * The keys given in `env` (base64, 32 bytes each): BYOK_MASTER_KEY, BYOK_TOKEN_SEALING_KEY,
 * BYOK_COMMITMENT_KEY — all three, or none (undefined); optional BYOK_MASTER_KEY_ID /
 * BYOK_TOKEN_SEALING_KEY_ID (default `env`) and BYOK_PREVIOUS_MASTER_KEYS /
 * BYOK_PREVIOUS_TOKEN_SEALING_KEYS (`id:base64,...`, current first) for rotation.
 */
export function engineKeysFromEnv(env: Readonly<Record<string, string | undefined>>): EngineKeys | undefined {
  const fromEnv = [env.BYOK_MASTER_KEY, env.BYOK_TOKEN_SEALING_KEY, env.BYOK_COMMITMENT_KEY];
  if (!fromEnv.some((v) => v)) return undefined;
  if (!fromEnv.every((v) => v)) throw new ByokError('INVALID_PARAMETER', 'Set BYOK_MASTER_KEY, BYOK_TOKEN_SEALING_KEY and BYOK_COMMITMENT_KEY together.');
  return {
    master: checkIds([
      { id: env.BYOK_MASTER_KEY_ID || 'env', key: decode32(fromEnv[0]!, 'BYOK_MASTER_KEY') },
      ...parseKeyList(env.BYOK_PREVIOUS_MASTER_KEYS, 'BYOK_PREVIOUS_MASTER_KEYS'),
    ], 'master keys'),
    tokenSealing: checkIds([
      { id: env.BYOK_TOKEN_SEALING_KEY_ID || 'env', key: decode32(fromEnv[1]!, 'BYOK_TOKEN_SEALING_KEY') },
      ...parseKeyList(env.BYOK_PREVIOUS_TOKEN_SEALING_KEYS, 'BYOK_PREVIOUS_TOKEN_SEALING_KEYS'),
    ], 'token-sealing keys'),
    commitment: decode32(fromEnv[2]!, 'BYOK_COMMITMENT_KEY'),
  };
}

/** The keys in `<dataDir>/keys.json`, or undefined when there is no such file. */
export function readEngineKeysFile(dataDir: string): EngineKeys | undefined {
  const path = join(dataDir, ENGINE_KEYS_FILE);
  return existsSync(path) ? readKeysFile(path) : undefined;
}

/**
 * Create `<dataDir>/keys.json` holding `keys` (the directory too, mode 0700) and return the keys
 * the file holds: `keys`, or the ones already there — a keys file is never overwritten, since
 * its keys may already seal material. Written whole and fsynced, then linked into place: a crash
 * leaves no half-written file, and link (unlike rename) fails if another process created one
 * meanwhile.
 */
export function writeEngineKeysFile(dataDir: string, keys: EngineKeys): EngineKeys {
  const path = join(dataDir, ENGINE_KEYS_FILE);
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeSecretFile(path, JSON.stringify(toFile(keys), null, 2) + '\n', 'create', 'keys file');
  }
  return readKeysFile(path);
}

/**
 * The keys in `env` if any, else `<dataDir>/keys.json`, created when absent. It knows no store:
 * `openEngine` refuses keys that are not its store's, and generates them only for a new store.
 */
export function loadEngineKeys(dataDir: string, env: Readonly<Record<string, string | undefined>>): EngineKeys {
  return engineKeysFromEnv(env) ?? readEngineKeysFile(dataDir) ?? writeEngineKeysFile(dataDir, generateEngineKeys());
}

function readKeysFile(path: string): EngineKeys {
  const text = readSecretFile(path, 'keys file');
  let file: KeysFile;
  try {
    file = JSON.parse(text) as KeysFile;
  } catch {
    throw new ByokError('INVALID_PARAMETER', `The keys file ${path} is not valid JSON.`);
  }
  if (file?.version !== 1 || !Array.isArray(file.master) || !file.master.length || !Array.isArray(file.tokenSealing) || !file.tokenSealing.length || !file.commitment) {
    throw new ByokError('INVALID_PARAMETER', `The keys file ${path} is incomplete.`);
  }
  return {
    master: checkIds(file.master.map((k) => ({ id: k.id, key: decode32(k.key, 'master key') })), 'master keys'),
    tokenSealing: checkIds(file.tokenSealing.map((k) => ({ id: k.id, key: decode32(k.key, 'token-sealing key') })), 'token-sealing keys'),
    commitment: decode32(file.commitment, 'commitment key'),
  };
}

/**
 * Rotate one key of `<dataDir>/keys.json`: a fresh key becomes current (first), the others stay
 * to open what they sealed. Returns the new key's ID. Restart engines to pick it up. The file is
 * replaced atomically (fsynced temp file, rename).
 */
export function rotateEngineKey(dataDir: string, which: 'master' | 'tokenSealing'): string {
  const path = join(dataDir, ENGINE_KEYS_FILE);
  const keys = readKeysFile(path);
  const prefix = which === 'master' ? 'mk' : 'tk';
  let n = keys[which].length + 1;
  while (keys[which].some((k) => k.id === `${prefix}${n}`)) n++;
  const id = `${prefix}${n}`;
  const rotated: EngineKeys = { ...keys, [which]: [{ id, key: new Uint8Array(randomBytes(32)) }, ...keys[which]] };
  writeSecretFile(path, JSON.stringify(toFile(rotated), null, 2) + '\n', 'replace', 'keys file');
  return id;
}
