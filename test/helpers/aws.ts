/**
 * The AWS side of the AWS dialect's tests: @aws-sdk/client-kms pointed at a local service with
 * only an endpoint and credentials, and the customer's OpenSSL CLI steps from AWS's import
 * documentation (wrap, sign checks, HMAC checks), run on temp files.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { SEED_PKEYOPTS } from './openssl-cli.js';

/** The SDK warns once per process that Node 20 is old; the tests know. */
process.env.AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING ??= '1';

/** A KMS client for the local service: endpoint and credentials, nothing else (the SDK needs a region; any works). */
export function kmsClient(endpoint: string, accessKeyId: string, secretAccessKey: string): KMSClient {
  return new KMSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey } });
}

/** Run openssl in a fresh directory holding `files`; returns the named output files' bytes. */
export function openssl(files: Record<string, Uint8Array>, commands: string[][], outputs: string[]): Record<string, Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'byok-aws-openssl-'));
  try {
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
    for (const args of commands) execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    return Object.fromEntries(outputs.map((o) => [o, readFileSync(join(dir, o))]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const OAEP = { SHA_1: 'sha1', SHA_256: 'sha256' } as const;

/**
 * The material wrapped as AWS's "Encrypt key material" steps do with the OpenSSL CLI: RSAES_*
 * and SM2PKE with `openssl pkeyutl -encrypt`; RSA_AES_KEY_WRAP_SHA_* as a fresh AES-256 key
 * wrapped with RSA-OAEP (`pkeyutl`), then the material wrapped under it with
 * `openssl enc -id-aes256-wrap-pad` (RFC 5649), the two concatenated.
 */
export function wrapForAws(publicKeyDer: Uint8Array, algorithm: string, material: Uint8Array): Buffer {
  const envelope = /^RSA_AES_KEY_WRAP_(SHA_1|SHA_256)$/.exec(algorithm);
  const files = { 'WrappingPublicKey.bin': publicKeyDer, 'PlaintextKeyMaterial.bin': material };
  const pkeyutl = (input: string, out: string, opts: string[]) => ['pkeyutl', '-encrypt', '-in', input, '-out', out, '-inkey', 'WrappingPublicKey.bin', '-keyform', 'DER', '-pubin', ...opts.flatMap((o) => ['-pkeyopt', o])];
  if (!envelope) {
    const opts = SEED_PKEYOPTS[algorithm === 'SM2PKE' ? 'SM2_ENCRYPT' : algorithm]!;
    return openssl(files, [pkeyutl('PlaintextKeyMaterial.bin', 'EncryptedKeyMaterial.bin', opts)], ['EncryptedKeyMaterial.bin'])['EncryptedKeyMaterial.bin']!;
  }
  const md = OAEP[envelope[1] as keyof typeof OAEP];
  const aesKey = execFileSync('openssl', ['rand', '32']);
  const wrapped = openssl({ ...files, 'aes-key.bin': aesKey }, [
    ['enc', '-id-aes256-wrap-pad', '-K', aesKey.toString('hex'), '-iv', 'A65959A6', '-in', 'PlaintextKeyMaterial.bin', '-out', 'key-material-wrapped.bin'],
    pkeyutl('aes-key.bin', 'aes-key-wrapped.bin', ['rsa_padding_mode:oaep', `rsa_oaep_md:${md}`, `rsa_mgf1_md:${md}`]),
  ], ['aes-key-wrapped.bin', 'key-material-wrapped.bin']);
  return Buffer.concat([wrapped['aes-key-wrapped.bin']!, wrapped['key-material-wrapped.bin']!]);
}

/** A private key made by `openssl genpkey`, as PKCS#8 DER (what AWS imports) and its SPKI DER. */
export function opensslPrivateKey(genpkeyArgs: string[]): { pkcs8: Buffer; spki: Buffer } {
  const out = openssl({}, [
    ['genpkey', ...genpkeyArgs, '-out', 'key.pem'],
    ['pkcs8', '-topk8', '-nocrypt', '-in', 'key.pem', '-outform', 'DER', '-out', 'key.p8'],
    ['pkey', '-in', 'key.pem', '-pubout', '-outform', 'DER', '-out', 'pub.der'],
  ], ['key.p8', 'pub.der']);
  return { pkcs8: out['key.p8']!, spki: out['pub.der']! };
}

/** `openssl pkeyutl -verify` of a signature over a SHA-256 digest (the digest computed by `openssl dgst`). */
export function opensslVerifiesSha256(spki: Uint8Array, message: Uint8Array, signature: Uint8Array, extraOpts: string[] = []): boolean {
  try {
    openssl({ 'pub.der': spki, 'msg.bin': message, 'sig.bin': signature }, [
      ['dgst', '-sha256', '-binary', '-out', 'digest.bin', 'msg.bin'],
      ['pkeyutl', '-verify', '-pubin', '-inkey', 'pub.der', '-keyform', 'DER', '-in', 'digest.bin', '-sigfile', 'sig.bin', '-pkeyopt', 'digest:sha256', ...extraOpts.flatMap((o) => ['-pkeyopt', o])],
    ], []);
    return true;
  } catch {
    return false;
  }
}

/** `openssl dgst -mac HMAC`: the HMAC of a message under a hex key. */
export function opensslHmac(hash: 'sha224' | 'sha256' | 'sha384' | 'sha512', key: Uint8Array, message: Uint8Array): Buffer {
  return openssl({ 'msg.bin': message }, [
    [`dgst`, `-${hash}`, '-mac', 'HMAC', '-macopt', `hexkey:${Buffer.from(key).toString('hex')}`, '-binary', '-out', 'mac.bin', 'msg.bin'],
  ], ['mac.bin'])['mac.bin']!;
}
