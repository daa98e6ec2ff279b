import { hash as oneShotHash } from 'node:crypto';

/** Node hash name for a Wycheproof / KMS hash name ("SHA-256", "sha256", "SHA-512/224"). */
export function nodeHashName(name: string): string {
  const n = name.toLowerCase().replace(/^sha-/, 'sha').replace('/', '-');
  const known: Record<string, string> = {
    sha1: 'sha1', sha224: 'sha224', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512',
    'sha512-224': 'sha512-224', 'sha512-256': 'sha512-256',
    'sha3-224': 'sha3-224', 'sha3-256': 'sha3-256', 'sha3-384': 'sha3-384', 'sha3-512': 'sha3-512',
  };
  const out = known[n];
  if (!out) throw new TypeError(`unsupported hash ${name}`);
  return out;
}

const lengths = new Map<string, number>();

/** Output length of a node hash, remembered (the OAEP decoder asks on every call). */
export function hashLength(hash: string): number {
  let n = lengths.get(hash);
  if (n === undefined) {
    n = oneShotHash(hash, new Uint8Array(0), 'buffer').length;
    lengths.set(hash, n);
  }
  return n;
}

/**
 * target ^= MGF1(seed, target.length) (RFC 8017 §B.2.1), in place: one one-shot hash per block
 * over seed ‖ counter in one scratch buffer (a createHash object per block cost twice as much).
 * Lengths are public; the seed is secret but hashing is data-independent; the scratch and each
 * mask block are zeroed.
 */
export function mgf1XorInto(hash: string, seed: Uint8Array, target: Uint8Array): void {
  const input = new Uint8Array(seed.length + 4);
  input.set(seed);
  const c = seed.length;
  try {
    for (let counter = 0, off = 0; off < target.length; counter++) {
      input[c] = counter >>> 24;
      input[c + 1] = (counter >>> 16) & 0xff;
      input[c + 2] = (counter >>> 8) & 0xff;
      input[c + 3] = counter & 0xff;
      const block = oneShotHash(hash, input, 'buffer');
      const n = Math.min(block.length, target.length - off);
      for (let j = 0; j < n; j++) target[off + j] ^= block[j];
      block.fill(0);
      off += n;
    }
  } finally {
    input.fill(0);
  }
}

/** MGF1 (RFC 8017 §B.2.1) as a new mask of `length` bytes. */
export function mgf1(hash: string, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  mgf1XorInto(hash, seed, out);
  return out;
}
