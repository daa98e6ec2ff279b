import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);

/** An RSA wrapping key pair (e = 65537), generated off the event loop (libuv thread pool). */
export async function generateRsaKeyPair(bits: 2048 | 3072 | 4096): Promise<{ publicKeySpki: Uint8Array; privateKeyPkcs8: Uint8Array }> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: bits,
    publicExponent: 0x10001,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  return { publicKeySpki: new Uint8Array(publicKey), privateKeyPkcs8: new Uint8Array(privateKey) };
}
