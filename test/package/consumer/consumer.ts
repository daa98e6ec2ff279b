// Type-checked with tsc --noEmit --strict under moduleResolution node16 and bundler: the public
// types are reachable and precise (a misspelt algorithm or spec does not compile).
import { ByokError, ERROR_CODES, MemoryKeyStore, WIRE_ERRORS, generateEngineKeys, openEngine } from 'byok-hsm';
import type { AuditRecord, Engine, ErrorCode, ImportResult, KeyMutation, KeyRecord, KeyStore, OpenEngineOptions } from 'byok-hsm';
import { wrapForImport } from 'byok-hsm/client';

const audit: AuditRecord[] = [];
const store: KeyStore = new MemoryKeyStore();
const options: OpenEngineOptions = { store, keys: generateEngineKeys(), onAudit: (r) => audit.push(r) };

export async function importOnce(material: Uint8Array): Promise<ImportResult> {
  const engine: Engine = await openEngine(options);
  try {
    const key = await engine.createKey({ tenant: 't', origin: 'EXTERNAL', materialSpec: 'AES_256' });
    const params = await engine.getParametersForImport({ tenant: 't', keyId: key.keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_3072' });
    const { encryptedKeyMaterial } = wrapForImport({ publicKey: params.publicKey, algorithm: params.wrappingAlgorithm, material });
    return await engine.importKeyMaterial({ tenant: 't', keyId: key.keyId, importToken: params.importToken, encryptedKeyMaterial });
  } catch (e) {
    if (e instanceof ByokError) {
      const code: ErrorCode = e.code;
      throw new Error(`${code} (${ERROR_CODES[code].fault}, HTTP ${WIRE_ERRORS[code].http})`, { cause: e });
    }
    throw e;
  } finally {
    await engine.close();
  }
}

export const disable: KeyMutation = (current: KeyRecord) => ({ ...current, state: 'Disabled' });

export async function misspelt(engine: Engine): Promise<void> {
  // @ts-expect-error a misspelt wrapping algorithm
  await engine.getParametersForImport({ tenant: 't', keyId: 'k', wrappingAlgorithm: 'RSAES_OAEP_SHA_265' });
  // @ts-expect-error a misspelt material spec
  await engine.createKey({ tenant: 't', materialSpec: 'AES_265' });
}
