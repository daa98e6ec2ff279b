/**
 * Type-level test, compiled by test/engine-input-types.test.ts: the engine's inputs are literal
 * unions, so a misspelt algorithm or spec fails `tsc`. Each `@ts-expect-error` must be an error
 * (an unused one fails the compile), and the lines without one must compile.
 */
import type { Engine } from '../../src/engine/types.js';

export function misspelt(engine: Engine, ref: { tenant: string; keyId: string }, message: Uint8Array): void {
  void engine.getParametersForImport({ ...ref, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_3072' });
  // @ts-expect-error a misspelt wrapping algorithm
  void engine.getParametersForImport({ ...ref, wrappingAlgorithm: 'RSAES_OAEP_SHA_265' });
  // @ts-expect-error a wrapping key spec that does not exist
  void engine.getParametersForImport({ ...ref, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_1024' });
  // @ts-expect-error a misspelt claimed algorithm on import
  void engine.importKeyMaterial({ ...ref, importToken: '', encryptedKeyMaterial: '', wrappingAlgorithm: 'RSAES_PKCS1_V15' });

  void engine.createKey({ tenant: ref.tenant, keySpec: 'HMAC_256' });
  // @ts-expect-error a misspelt key spec
  void engine.createKey({ tenant: ref.tenant, keySpec: 'AES256' });
  // @ts-expect-error a misspelt origin
  void engine.createKey({ tenant: ref.tenant, origin: 'EXTERNALL' });

  void engine.sign({ ...ref, message, signingAlgorithm: 'ECDSA_SHA_256' });
  // @ts-expect-error a misspelt signing algorithm
  void engine.sign({ ...ref, message, signingAlgorithm: 'ECDSA_SHA256' });
  // @ts-expect-error a misspelt MAC algorithm
  void engine.generateMac({ ...ref, message, macAlgorithm: 'HMAC_SHA256' });

  void engine.sign({ ...ref, message, signingAlgorithm: 'ECDSA_SHA_256', messageType: 'DIGEST' });
  // @ts-expect-error a misspelt message type
  void engine.sign({ ...ref, message, signingAlgorithm: 'ECDSA_SHA_256', messageType: 'HASH' });
  void engine.generateDataKey({ ...ref, keySpec: 'AES_128', withPlaintext: true });
  // @ts-expect-error a data key spec that does not exist
  void engine.generateDataKey({ ...ref, keySpec: 'AES_512', withPlaintext: true });
  // @ts-expect-error withPlaintext is required: say whether the plaintext comes back
  void engine.generateDataKey({ ...ref, numberOfBytes: 32 });
  void engine.listKeys({ tenant: ref.tenant, keyState: 'Enabled', keySpec: 'SM4_128' });
  // @ts-expect-error a key state that does not exist
  void engine.listKeys({ tenant: ref.tenant, keyState: 'Active' });
}
