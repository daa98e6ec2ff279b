/**
 * Material commitments and key check values, keyed by the engine's commitment key.
 * Symmetric and HMAC keys: a keyed PRF of the material (the backend's fingerprint). Private keys:
 * the derived public key (as Vault matches re-imports), so the same key pair matches whatever
 * PKCS#8 encoding it arrives in. Domain-separated by key ID; never the material itself.
 */
import { createHmac } from 'node:crypto';
import { MATERIAL_SPECS } from '../algorithms/specs.js';
import type { CryptoBackend, MaterialHandle } from '../backends/crypto-backend.js';
import { toHex, zeroize } from '../bytes.js';
import { ByokError } from '../errors.js';

export class Commitments {
  /** @param key 32 bytes; must never change for a store's lifetime (commitments stay comparable). */
  constructor(private readonly backend: CryptoBackend, private readonly key: Uint8Array) {
    if (key.length !== 32) throw new ByokError('INVALID_PARAMETER', 'The commitment key must be 32 bytes.');
  }

  async commitmentFor(handle: MaterialHandle, keyId: string): Promise<Uint8Array> {
    if (MATERIAL_SPECS[handle.materialSpec].kind === 'private-key') {
      const mac = createHmac('sha256', this.key);
      mac.update(`byok/commitment/public-key/v1\0${keyId}\0${handle.materialSpec}\0`, 'utf8');
      mac.update(await this.backend.publicKey(handle));
      return new Uint8Array(mac.digest());
    }
    const fingerprint = await this.backend.fingerprintMaterial(handle, keyId);
    try {
      const mac = createHmac('sha256', this.key);
      mac.update(`byok/commitment/v1\0${keyId}\0`, 'utf8');
      mac.update(fingerprint);
      return new Uint8Array(mac.digest());
    } finally {
      zeroize(fingerprint);
    }
  }

  /** A public check value of a commitment: equal material gives an equal value for one key. */
  keyCheckValue(commitment: Uint8Array): string {
    const mac = createHmac('sha256', this.key).update('byok/kcv/v1\0', 'utf8').update(commitment).digest();
    return toHex(mac.subarray(0, 8));
  }
}
