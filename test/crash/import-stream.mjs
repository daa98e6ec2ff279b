// Child for the crash test: a stream of create → get-parameters → wrap → import against the
// durable SQLite store in DATA_DIR, printing "OK <keyId> <kcv>" only after each import returned.
import { constants, publicEncrypt, randomBytes, createPublicKey } from 'node:crypto';
import { openEngine } from '../../dist/src/open-engine.js';

const engine = await openEngine({ dataDir: process.env.DATA_DIR });
for (;;) {
  const key = await engine.createKey({ tenant: 'crash' });
  const params = await engine.getParametersForImport({ tenant: 'crash', keyId: key.keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
  const material = randomBytes(32);
  const pub = createPublicKey({ key: Buffer.from(params.publicKey, 'base64'), format: 'der', type: 'spki' });
  const wrapped = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material);
  const result = await engine.importKeyMaterial({ tenant: 'crash', keyId: key.keyId, importToken: params.importToken, encryptedKeyMaterial: wrapped.toString('base64') });
  process.stdout.write(`OK ${key.keyId} ${result.keyCheckValue} ${material.toString('hex')}\n`);
}
