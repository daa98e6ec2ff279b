/** Run the real OpenSSL CLI on temp files (interop tests: OpenSSL is the customer's tool). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `openssl pkeyutl -encrypt` with a DER SubjectPublicKeyInfo, exactly as the seeds show it. */
export function opensslPkeyutlEncrypt(publicKeyDer: Uint8Array, plaintext: Uint8Array, pkeyopts: string[]): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'byok-openssl-'));
  try {
    writeFileSync(join(dir, 'PublicKey.der'), publicKeyDer);
    writeFileSync(join(dir, 'plain.bin'), plaintext);
    const opts = pkeyopts.flatMap((o) => ['-pkeyopt', o]);
    execFileSync('openssl', ['pkeyutl', '-encrypt', '-in', 'plain.bin', '-inkey', 'PublicKey.der', '-keyform', 'DER', '-pubin', '-out', 'wrapped.bin', ...opts], { cwd: dir, stdio: 'pipe' });
    return new Uint8Array(readFileSync(join(dir, 'wrapped.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Any other openssl call on a DER input file; returns stdout. */
export function opensslWithInput(args: (inFile: string) => string[], input: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'byok-openssl-'));
  try {
    const inFile = join(dir, 'in.der');
    writeFileSync(inFile, input);
    return execFileSync('openssl', args(inFile), { cwd: dir, stdio: 'pipe' }).toString('utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The seeds' pkeyopts per wrapping algorithm (SM2 needs none). */
export const SEED_PKEYOPTS: Record<string, string[]> = {
  RSAES_OAEP_SHA_256: ['rsa_padding_mode:oaep', 'rsa_oaep_md:sha256'],
  RSAES_OAEP_SHA_1: ['rsa_padding_mode:oaep', 'rsa_oaep_md:sha1'],
  RSAES_PKCS1_V1_5: ['rsa_padding_mode:pkcs1'],
  SM2_ENCRYPT: [],
};
