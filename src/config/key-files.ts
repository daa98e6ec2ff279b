/**
 * The engine's secrets: master keys (seal material at rest), token-sealing keys (seal import
 * tokens) and the commitment key (keys material commitments). Loaded from environment
 * variables, else from `<dataDir>/keys.json`, created on first run with mode 0600.
 *
 * Rotation: put a new key first in `master` or `tokenSealing` (with a new ID) and keep the old
 * ones after it. New material / tokens use the first key; older ones open with the key their
 * ID names. Drop an old token-sealing key once every token it sealed has expired (24 h by
 * default). The commitment key cannot rotate: commitments made under it must stay comparable.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ByokError } from '../errors.js';

export interface NamedKey {
  readonly id: string;
  readonly key: Uint8Array;
}

export interface EngineKeys {
  /** Current first. */
  readonly master: readonly NamedKey[];
  /** Current first. */
  readonly tokenSealing: readonly NamedKey[];
  readonly commitment: Uint8Array;
}

interface KeysFile {
  version: 1;
  master: Array<{ id: string; key: string }>;
  tokenSealing: Array<{ id: string; key: string }>;
  commitment: string;
}

function decode32(b64: string, what: string): Uint8Array {
  const key = new Uint8Array(Buffer.from(b64, 'base64'));
  if (key.length !== 32) throw new ByokError('INVALID_PARAMETER', `${what} must be 32 bytes of base64.`);
  return key;
}

export function generateEngineKeys(): EngineKeys {
  return {
    master: [{ id: 'mk1', key: new Uint8Array(randomBytes(32)) }],
    tokenSealing: [{ id: 'tk1', key: new Uint8Array(randomBytes(32)) }],
    commitment: new Uint8Array(randomBytes(32)),
  };
}

/**
 * Env (base64, 32 bytes each): BYOK_MASTER_KEY, BYOK_TOKEN_SEALING_KEY, BYOK_COMMITMENT_KEY —
 * all three or none. Otherwise the keys file in `dataDir`, created when absent.
 */
export function loadEngineKeys(dataDir: string, env: NodeJS.ProcessEnv = process.env): EngineKeys {
  const fromEnv = [env.BYOK_MASTER_KEY, env.BYOK_TOKEN_SEALING_KEY, env.BYOK_COMMITMENT_KEY];
  if (fromEnv.some((v) => v)) {
    if (!fromEnv.every((v) => v)) throw new ByokError('INVALID_PARAMETER', 'Set BYOK_MASTER_KEY, BYOK_TOKEN_SEALING_KEY and BYOK_COMMITMENT_KEY together.');
    return {
      master: [{ id: 'env', key: decode32(fromEnv[0]!, 'BYOK_MASTER_KEY') }],
      tokenSealing: [{ id: 'env', key: decode32(fromEnv[1]!, 'BYOK_TOKEN_SEALING_KEY') }],
      commitment: decode32(fromEnv[2]!, 'BYOK_COMMITMENT_KEY'),
    };
  }
  const path = join(dataDir, 'keys.json');
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const keys = generateEngineKeys();
    const file: KeysFile = {
      version: 1,
      master: keys.master.map((k) => ({ id: k.id, key: Buffer.from(k.key).toString('base64') })),
      tokenSealing: keys.tokenSealing.map((k) => ({ id: k.id, key: Buffer.from(k.key).toString('base64') })),
      commitment: Buffer.from(keys.commitment).toString('base64'),
    };
    // 'wx': never overwrite a keys file another process created meanwhile.
    try {
      writeFileSync(path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    chmodSync(path, 0o600);
  }
  let file: KeysFile;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as KeysFile;
  } catch {
    throw new ByokError('INVALID_PARAMETER', `The keys file ${path} is not valid JSON.`);
  }
  if (file.version !== 1 || !file.master?.length || !file.tokenSealing?.length || !file.commitment) {
    throw new ByokError('INVALID_PARAMETER', `The keys file ${path} is incomplete.`);
  }
  return {
    master: file.master.map((k) => ({ id: k.id, key: decode32(k.key, 'master key') })),
    tokenSealing: file.tokenSealing.map((k) => ({ id: k.id, key: decode32(k.key, 'token-sealing key') })),
    commitment: decode32(file.commitment, 'commitment key'),
  };
}
