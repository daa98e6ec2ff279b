/** What a customer does on its side: wrap material for a public key, use its material locally. */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { sm4GcmDecrypt, sm4GcmEncrypt } from '../../src/algorithms/sm4-gcm.js';
import type { MaterialSpec } from '../../src/algorithms/specs.js';
import { opensslPkeyutlEncrypt, SEED_PKEYOPTS } from './openssl-cli.js';

/** Wrap with the real OpenSSL CLI, as the seeds instruct. */
export function wrapWithOpenssl(publicKeyBase64: string, algorithm: string, material: Uint8Array): string {
  const wrapped = opensslPkeyutlEncrypt(Buffer.from(publicKeyBase64, 'base64'), material, SEED_PKEYOPTS[algorithm]);
  return Buffer.from(wrapped).toString('base64');
}

/** Build the engine's ciphertext blob locally: 0x01 ‖ keyId ‖ iv ‖ ct ‖ tag. */
export function customerEncrypt(keyId: string, spec: MaterialSpec, material: Uint8Array, plaintext: Uint8Array, aad = new Uint8Array(0)): Uint8Array {
  const iv = randomBytes(12);
  let body: Buffer;
  if (spec === 'SM4_128') {
    const { ciphertext, tag } = sm4GcmEncrypt(material, iv, plaintext, aad);
    body = Buffer.concat([iv, ciphertext, tag]);
  } else {
    const c = createCipheriv('aes-256-gcm', material, iv);
    c.setAAD(aad);
    body = Buffer.concat([iv, c.update(plaintext), c.final(), c.getAuthTag()]);
  }
  return new Uint8Array(Buffer.concat([Buffer.from([1]), Buffer.from(keyId, 'ascii'), body]));
}

/** Open the engine's blob locally with the customer's material (and the AAD it is bound to). */
export function customerDecrypt(spec: MaterialSpec, material: Uint8Array, blob: Uint8Array, aad = new Uint8Array(0)): Uint8Array {
  const body = blob.subarray(37);
  const [iv, ct, tag] = [body.subarray(0, 12), body.subarray(12, body.length - 16), body.subarray(body.length - 16)];
  if (spec === 'SM4_128') return sm4GcmDecrypt(material, iv, ct, tag, aad);
  const d = createDecipheriv('aes-256-gcm', material, iv);
  d.setAAD(aad);
  d.setAuthTag(tag);
  return new Uint8Array(Buffer.concat([d.update(ct), d.final()]));
}
