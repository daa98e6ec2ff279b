import { createHash } from 'node:crypto';

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

export function hashLength(hash: string): number {
  return createHash(hash).digest().length;
}

/** MGF1 (RFC 8017 §B.2.1). Lengths are public; the seed is secret but hashing is data-independent. */
export function mgf1(hash: string, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const counter = new Uint8Array(4);
  let off = 0;
  for (let i = 0; off < length; i++) {
    new DataView(counter.buffer).setUint32(0, i);
    const block = createHash(hash).update(seed).update(counter).digest();
    const n = Math.min(block.length, length - off);
    out.set(block.subarray(0, n), off);
    block.fill(0);
    off += n;
  }
  return out;
}
