/**
 * SM2 in `byok bench`: our unwrap and key generation against OpenSSL's own, a C loop over
 * EVP_PKEY_decrypt / EVP_PKEY_keygen (bench/anchors/sm2-decrypt.c) compiled in the same run with
 * the system's cc and libcrypto (libssl-dev). The anchor and ours run in alternating short
 * windows, so that load from other processes falls on both sides of the ratio alike.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sm2Engine } from '../src/algorithms/sm2/index.js';
import type { PureBackend } from '../src/backends/pure/pure-backend.js';
import { alternating } from './alternate-anchor.js';
import { concurrentRate } from './import-lanes.js';

export interface Sm2BenchRow {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly reference?: { readonly name: string; readonly value: number };
  readonly target?: string;
}

// bench/ (tsx) or dist/bench/ (the build): the C source stays in bench/anchors/.
const SOURCES = ['./anchors/sm2-decrypt.c', '../../bench/anchors/sm2-decrypt.c'].map((p) => fileURLToPath(new URL(p, import.meta.url)));

/** The anchor binary, or why it could not be built (no cc, no libssl-dev). */
function buildAnchor(dir: string): { binary?: string; why?: string } {
  const source = SOURCES.find((p) => existsSync(p));
  if (!source) return { why: 'bench/anchors/sm2-decrypt.c is not there' };
  const binary = join(dir, 'sm2-decrypt');
  try {
    execFileSync('cc', ['-O2', '-o', binary, source, '-lcrypto'], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { binary };
  } catch (e) {
    return { why: `cc -lcrypto failed (apt-get install -y build-essential libssl-dev): ${String((e as { stderr?: unknown }).stderr ?? e).split('\n')[0]}` };
  }
}

/** `openssl pkeyutl -encrypt`: GM/T 0009 DER with SM3, what a customer wrapping with OpenSSL sends. */
function opensslEncrypt(dir: string, spki: Uint8Array, material: Uint8Array): Uint8Array {
  writeFileSync(join(dir, 'pub.der'), spki);
  writeFileSync(join(dir, 'material'), material);
  execFileSync('openssl', ['pkeyutl', '-encrypt', '-pubin', '-keyform', 'DER', '-inkey', 'pub.der', '-in', 'material', '-out', 'ct'], { cwd: dir, stdio: 'ignore' });
  return new Uint8Array(readFileSync(join(dir, 'ct')));
}

/** One window of the anchor: its own count over its own clock. */
function anchorWindow(binary: string, op: 'decrypt' | 'keygen', seconds: number): { ops: number; seconds: number } {
  const [, count, elapsed] = execFileSync(binary, [op, String(seconds)], { encoding: 'utf8' }).trim().split(' ');
  return { ops: Number(count), seconds: Number(elapsed) };
}

/** The anchor and ours in alternating windows (alternate-anchor.ts), the anchor timed by its own clock. */
async function interleaved(binary: string, anchorOp: 'decrypt' | 'keygen', ours: () => Promise<unknown>, rounds: number, window: number) {
  const r = await alternating(rounds, () => {
    const a = anchorWindow(binary, anchorOp, window);
    return a.ops / a.seconds;
  }, [() => concurrentRate(window, 1, ours)]);
  return { anchor: r.anchor, ours: r.figures[0]! };
}

/**
 * The SM2 rows: unwrap on one thread (the pure backend, inline, wrapping key cached, as the
 * import path runs it) and key generation (the backend's, with its key-pair check), each beside
 * the anchor. `backend` must run inline (no workers).
 */
export async function sm2Rows(backend: PureBackend, options: { rounds: number; window: number; log: (line: string) => void }): Promise<Sm2BenchRow[]> {
  const { rounds, window, log } = options;
  const engine = sm2Engine();
  log(`# SM2 engine: ${engine.engine} (${engine.detail})`);
  const dir = mkdtempSync(join(tmpdir(), 'byok-sm2-anchor-'));
  try {
    const { binary, why } = buildAnchor(dir);
    if (!binary) {
      log(`SM2 anchor rows skipped: ${why}`);
      return [];
    }
    const pair = await backend.generateWrappingKeyPair('SM2');
    const material = new Uint8Array(randomBytes(32));
    const cts = Array.from({ length: 8 }, () => opensslEncrypt(dir, pair.publicKeySpki, material));
    let i = 0;
    const unwrap = () => backend.unwrapMaterial({
      keySpec: 'SM2', algorithm: 'SM2_ENCRYPT', materialSpec: 'AES_256', privateKeyBlob: pair.privateKeyBlob,
      ciphertext: cts[i++ % cts.length], cacheKey: 'bench-sm2-anchor', cacheUntil: Date.now() + 3_600_000,
    }).then((h) => backend.release(h));
    await concurrentRate(0.1, 1, unwrap); // parse and cache the key, warm the code
    const decrypt = await interleaved(binary, 'decrypt', unwrap, rounds, window);
    const keygen = await interleaved(binary, 'keygen', () => backend.generateWrappingKeyPair('SM2'), rounds, window);
    return [
      { name: `SM2 unwrap, 1 thread (${engine.engine})`, value: decrypt.ours, unit: 'ops/s', reference: { name: 'OpenSSL EVP_PKEY_decrypt loop in C', value: decrypt.anchor }, target: '>= 0.90' },
      { name: 'SM2 key generation, 1 thread (generateWrappingKeyPair)', value: keygen.ours, unit: 'ops/s', reference: { name: 'OpenSSL EVP_PKEY_keygen loop in C', value: keygen.anchor } },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
