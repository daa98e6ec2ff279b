// The whole BYOK flow through the library API: `node examples/import-flow.mjs` in the repository
// (after `npm install`) or in a project that installed byok-hsm. Engine-only: the memory store and
// fresh engine keys, so nothing is written to disk and no optional package is needed.
import { createDecipheriv, randomBytes } from 'node:crypto';
import { generateEngineKeys, MemoryKeyStore, openEngine } from 'byok-hsm';
import { wrapForImport } from 'byok-hsm/client';

// A KMS server would load its keys (loadEngineKeys) and bring a durable store.
const engine = await openEngine({ store: new MemoryKeyStore(), keys: generateEngineKeys() });
const tenant = 'example-tenant';

try {
  // 1. An external key, waiting for material.
  const key = await engine.createKey({ tenant, origin: 'EXTERNAL', materialSpec: 'AES_256' });

  // 2. Parameters for import: a fresh wrapping public key and an import token (24 h).
  const params = await engine.getParametersForImport({ tenant, keyId: key.keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256' });

  // 3. The customer wraps its own 32 bytes (the same as `openssl pkeyutl -encrypt -pkeyopt
  //    rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256`).
  const material = randomBytes(32);
  const { encryptedKeyMaterial } = wrapForImport({ publicKey: params.publicKey, algorithm: 'RSAES_OAEP_SHA_256', material });

  // 4. Import. Re-importing later accepts only these same bytes.
  const result = await engine.importKeyMaterial({
    tenant, keyId: key.keyId, importToken: params.importToken, encryptedKeyMaterial: Buffer.from(encryptedKeyMaterial).toString('base64'),
  });

  // 5. The engine encrypts; the customer decrypts with its own material: it is theirs.
  const { ciphertextBlob } = await engine.encrypt({ tenant, keyId: key.keyId, plaintext: Buffer.from('hello') });
  const body = ciphertextBlob.subarray(37); // 0x01 ‖ key ID (36) ‖ iv(12) ‖ ciphertext ‖ tag(16)
  const decipher = createDecipheriv('aes-256-gcm', material, body.subarray(0, 12));
  decipher.setAuthTag(body.subarray(body.length - 16));
  const text = Buffer.concat([decipher.update(body.subarray(12, body.length - 16)), decipher.final()]).toString();

  console.log(JSON.stringify({ keyId: key.keyId, state: result.state, keyCheckValue: result.keyCheckValue, decryptedLocally: text }));
} finally {
  await engine.close();
}
