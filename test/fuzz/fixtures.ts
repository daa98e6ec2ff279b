/**
 * Fixed keys shared by the fuzz targets and the seed generator (make-seeds.ts), so that the
 * committed seeds are valid inputs for the targets (tokens open, ciphertexts decrypt).
 * Test-only keys: never used outside test/fuzz.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sm2PrivateKeyFromScalar, type Sm2PrivateKey } from '../../src/algorithms/sm2/index.js';
import { TokenSealer } from '../../src/token/import-token.js';

const here = dirname(fileURLToPath(import.meta.url));
/** test/fuzz in the source tree, from either test/fuzz (vitest) or dist/test/fuzz (node). */
export const FUZZ_SRC_DIR = here.includes(`${'/dist/'}`) ? resolve(here, '..', '..', '..', 'test', 'fuzz') : here;

export const TOKEN_KEY_ID = 'fuzz-tk';
export const TOKEN_KEY = new Uint8Array(32).fill(0x42);
export const OLD_TOKEN_KEY_ID = 'fuzz-old';
export const OLD_TOKEN_KEY = new Uint8Array(32).fill(0x24);

export function tokenSealer(): TokenSealer {
  return new TokenSealer([{ id: TOKEN_KEY_ID, key: TOKEN_KEY }, { id: OLD_TOKEN_KEY_ID, key: OLD_TOKEN_KEY }]);
}

/** SM2 scalar d (any value in [1, n-1]). */
export const SM2_D = Uint8Array.from(Buffer.from('3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8', 'hex'));

export function sm2Key(): Sm2PrivateKey {
  return sm2PrivateKeyFromScalar(SM2_D);
}

export const KWP_KEKS = [new Uint8Array(16).fill(0x11), new Uint8Array(24).fill(0x22), new Uint8Array(32).fill(0x33)];

/** The RSA-2048 test key in test/fuzz/rsa-2048.pem (committed: seeds are ciphertexts under it). */
export function rsaKey(): KeyObject {
  return createPrivateKey(readFileSync(join(FUZZ_SRC_DIR, 'rsa-2048.pem'), 'utf8'));
}
