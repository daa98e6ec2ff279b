/**
 * The pure backend's known-answer operations: the same decoders as its import path, keyed by
 * the vectors' own keys. Holds nothing, so close() has nothing to do.
 */
import { aesKwpUnwrap } from '../../algorithms/aes-kwp.js';
import { rsaesDecryptForKat } from '../../algorithms/rsa/rsa-unwrap.js';
import { destroySm2PrivateKey, sm2Decrypt, sm2Engine, sm2PrivateKeyFromScalar, type Sm2EngineName } from '../../algorithms/sm2/index.js';
import type { KatOperations } from '../kat-operations.js';

/** `sm2Engine`: which SM2 engine the vectors run on (default: the one the import path uses). */
export function pureKatOperations(options: { readonly sm2Engine?: Sm2EngineName } = {}): KatOperations {
  const engine = options.sm2Engine ?? sm2Engine().engine;
  return {
    rsaesDecrypt: async (pkcs8, params, ciphertext) => rsaesDecryptForKat(pkcs8, params, ciphertext),
    aesKwpUnwrap: async (kek, wrapped) => aesKwpUnwrap(kek, wrapped),
    sm2Decrypt: async (d, ciphertext, options) => {
      const key = sm2PrivateKeyFromScalar(d, options.curve, engine);
      try {
        return sm2Decrypt(key, ciphertext, options);
      } finally {
        destroySm2PrivateKey(key);
      }
    },
    close: async () => {},
  };
}
