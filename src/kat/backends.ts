/**
 * The KAT operations `byok kat` can run against, by backend name. Each comes from its backend's
 * own factory, never from a production backend object. PKCS#11 is loaded only when asked for:
 * the pure core runs without pkcs11js.
 */
import type { KatOperations } from '../backends/kat-operations.js';
import { pureKatOperations } from '../backends/pure/kat-operations.js';

export const KAT_BACKENDS: Readonly<Record<string, (env?: NodeJS.ProcessEnv) => Promise<KatOperations>>> = {
  pure: async () => pureKatOperations(),
  // The device from BYOK_PKCS11_MODULE / _TOKEN_LABEL / _SLOT / _PIN / _HOST_DECODE.
  pkcs11: async (env = process.env) => {
    const pkcs11 = await import('../backends/pkcs11/index.js');
    return pkcs11.pkcs11KatOperations(pkcs11.pkcs11OptionsFromEnv(env));
  },
};
