// Bundled by esbuild with the pure backend's worker as a second entry point: the engine is told
// where the bundled worker is, since a bundle has no package layout to derive it from.
import * as lib from 'byok-hsm';
import * as client from 'byok-hsm/client';
import { randomBytes } from 'node:crypto';

const { openEngine, MemoryKeyStore, generateEngineKeys } = lib;
const engine = await openEngine({
  store: new MemoryKeyStore(), keys: generateEngineKeys(),
  workers: 1, workerUrl: new URL('./private-key-worker.js', import.meta.url),
});
try {
  const tenant = 'bundled';
  const key = await engine.createKey({ tenant, origin: 'EXTERNAL', materialSpec: 'AES_256' });
  const params = await engine.getParametersForImport({ tenant, keyId: key.keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
  const { encryptedKeyMaterial } = client.wrapForImport({ publicKey: params.publicKey, algorithm: 'RSAES_OAEP_SHA_256', material: randomBytes(32) });
  const result = await engine.importKeyMaterial({ tenant, keyId: key.keyId, importToken: params.importToken, encryptedKeyMaterial });
  console.log(JSON.stringify({ state: result.state }));
} finally {
  await engine.close();
}
