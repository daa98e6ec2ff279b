// The whole BYOK flow through the library API (run: npm run build && node examples/import-flow.mjs).
import { constants, createDecipheriv, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEngine } from '../dist/src/open-engine.js';

// Pure backend, SQLite store and keys.json in a fresh data directory.
const engine = await openEngine({ dataDir: mkdtempSync(join(tmpdir(), 'byok-example-')) });
const tenant = 'example-tenant';

// 1. An external key, waiting for material.
const key = await engine.createKey({ tenant, origin: 'EXTERNAL', materialSpec: 'AES_256' });

// 2. Parameters for import: a fresh wrapping public key and an import token (24 h).
const params = await engine.getParametersForImport({ tenant, keyId: key.keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256' });

// 3. The customer wraps its own 32 bytes (here with node:crypto; the README shows OpenSSL).
const material = randomBytes(32);
const publicKey = createPublicKey({ key: Buffer.from(params.publicKey, 'base64'), format: 'der', type: 'spki' });
const wrapped = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material);

// 4. Import. Re-importing later accepts only these same bytes.
const result = await engine.importKeyMaterial({ tenant, keyId: key.keyId, importToken: params.importToken, encryptedKeyMaterial: wrapped.toString('base64') });

// 5. The engine encrypts; the customer decrypts with its own material: it is theirs.
const { ciphertextBlob } = await engine.encrypt({ tenant, keyId: key.keyId, plaintext: Buffer.from('hello') });
const body = ciphertextBlob.subarray(37); // 0x01 ‖ key ID (36) ‖ iv(12) ‖ ciphertext ‖ tag(16)
const decipher = createDecipheriv('aes-256-gcm', material, body.subarray(0, 12));
decipher.setAuthTag(body.subarray(body.length - 16));
const text = Buffer.concat([decipher.update(body.subarray(12, body.length - 16)), decipher.final()]).toString();

console.log(JSON.stringify({ keyId: key.keyId, state: result.state, keyCheckValue: result.keyCheckValue, decryptedLocally: text }));
await engine.close();
