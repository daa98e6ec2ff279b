/**
 * "Wrap in this browser": RSAES-OAEP with WebCrypto (RFC 8017 §7.1; MGF1 with the same hash, an
 * empty label, as the service unwraps). The plaintext stays in this page's memory: only the
 * ciphertext is ever put in a request. WebCrypto has no RSAES-PKCS1-v1_5 encryption, no SM2 and
 * no AES key wrap with padding (RFC 5649), so those algorithms, and private keys, which travel
 * under a key-wrapped temporary key, are done with the OpenSSL commands.
 */
import type { MaterialSpecInfo, WrappingAlgorithm } from '../../../algorithms/specs.js';
import { base64ToBytes } from './import-files.js';

const WEBCRYPTO_HASH: Partial<Record<WrappingAlgorithm, 'SHA-256' | 'SHA-1'>> = {
  RSAES_OAEP_SHA_256: 'SHA-256',
  RSAES_OAEP_SHA_1: 'SHA-1',
};

/** Why this page cannot wrap for the algorithm and spec, or undefined when it can. */
export function browserWrapUnavailable(algorithm: WrappingAlgorithm, spec: MaterialSpecInfo): string | undefined {
  if (!globalThis.crypto?.subtle) return 'This browser offers no WebCrypto here (it needs a secure context: https or localhost): use the OpenSSL commands.';
  if (spec.kind === 'private-key') {
    return 'A private key travels under a temporary AES key with AES key wrap with padding (RFC 5649), which WebCrypto does not have: use the OpenSSL commands.';
  }
  if (!WEBCRYPTO_HASH[algorithm]) {
    return `WebCrypto has no ${algorithm === 'RSAES_PKCS1_V1_5' ? 'RSAES-PKCS1-v1_5 encryption' : algorithm === 'SM2_ENCRYPT' ? 'SM2 encryption' : 'AES key wrap with padding (RFC 5649)'}: use the OpenSSL commands for ${algorithm}, or RSAES_OAEP_SHA_256 to wrap in this browser.`;
  }
  return undefined;
}

/** Encrypt `material` for the import public key (base64 DER SPKI); returns the ciphertext. */
export async function wrapInBrowser(algorithm: WrappingAlgorithm, publicKeyBase64: string, material: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const hash = WEBCRYPTO_HASH[algorithm];
  if (!hash) throw new Error(`${algorithm} cannot be done with WebCrypto.`);
  const key = await crypto.subtle.importKey('spki', base64ToBytes(publicKeyBase64), { name: 'RSA-OAEP', hash }, false, ['encrypt']);
  return new Uint8Array(await crypto.subtle.encrypt({ name: 'RSA-OAEP' }, key, material));
}

/** Fresh random material of the spec's length, made in this page. */
export function generateMaterial(spec: MaterialSpecInfo): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(spec.length));
}
