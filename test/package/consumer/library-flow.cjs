// The library flow a KMS server runs, through the public entry only. Shared by the ESM and the
// CommonJS consumer: each passes in the modules it loaded its own way.
'use strict';
const { randomBytes } = require('node:crypto');

const tenant = 'consumer-tenant';
const algorithm = 'RSAES_OAEP_SHA_256';

module.exports = async function libraryFlow(lib, client) {
  const { openEngine, MemoryKeyStore, generateEngineKeys, ByokError, WIRE_ERRORS } = lib;
  const engine = await openEngine({ store: new MemoryKeyStore(), keys: generateEngineKeys() });
  try {
    const key = await engine.createKey({ tenant, origin: 'EXTERNAL', materialSpec: 'AES_256' });
    const wrapped = async (material) => {
      const params = await engine.getParametersForImport({ tenant, keyId: key.keyId, wrappingAlgorithm: algorithm, wrappingKeySpec: 'RSA_2048' });
      const { encryptedKeyMaterial } = client.wrapForImport({ publicKey: params.publicKey, algorithm, material });
      return { tenant, keyId: key.keyId, importToken: params.importToken, encryptedKeyMaterial: Buffer.from(encryptedKeyMaterial).toString('base64') };
    };

    const material = randomBytes(32);
    const imported = await engine.importKeyMaterial(await wrapped(material));
    const { ciphertextBlob } = await engine.encrypt({ tenant, keyId: key.keyId, plaintext: Buffer.from('through the public entry') });
    const { plaintext } = await engine.decrypt({ tenant, ciphertextBlob });

    let mismatch = 'accepted';
    try {
      await engine.importKeyMaterial(await wrapped(randomBytes(32)));
    } catch (e) {
      mismatch = e instanceof ByokError ? e.code : `not a ByokError: ${e}`;
    }
    const reimported = await engine.importKeyMaterial(await wrapped(material));
    return {
      state: imported.state,
      decrypted: Buffer.from(plaintext).toString(),
      mismatch,
      mismatchOnTheWire: WIRE_ERRORS[mismatch] && WIRE_ERRORS[mismatch].huawei,
      reimportedSameMaterial: reimported.state,
    };
  } finally {
    await engine.close();
  }
};
