/**
 * Imported material at rest (pure backend): AES-256-GCM under a master key, bound by AAD to the
 * key ID and material spec so a sealed blob cannot be moved to another key.
 *
 * Layout (version 1): 0x01 ‖ idLen(1) ‖ masterKeyId ‖ iv(12) ‖ ciphertext ‖ tag(16).
 * The master key ID lets the master key rotate: new material is sealed under the current key,
 * older blobs open with the key they name until they are re-sealed.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { MaterialSpec } from '../../algorithms/specs.js';
import { asBuffer, concatBytes } from '../../bytes.js';
import { ByokError } from '../../errors.js';

export interface MasterKey {
  readonly id: string;
  /** 32 bytes. */
  readonly key: Uint8Array;
}

const VERSION = 1;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;

function aadFor(keyId: string, spec: MaterialSpec): Buffer {
  return Buffer.from(`byok/material/v1\0${keyId}\0${spec}`, 'utf8');
}

export class MaterialSealer {
  private readonly byId = new Map<string, Uint8Array>();

  /** @param keys the current master key first, then older ones still needed to open blobs. */
  constructor(private readonly keys: readonly MasterKey[]) {
    if (keys.length === 0) throw new ByokError('INVALID_PARAMETER', 'A master key is required.');
    for (const k of keys) {
      if (k.key.length !== 32) throw new ByokError('INVALID_PARAMETER', 'A master key must be 32 bytes.');
      if (Buffer.byteLength(k.id) === 0 || Buffer.byteLength(k.id) > 255) {
        throw new ByokError('INVALID_PARAMETER', 'A master key ID must be 1..255 bytes.');
      }
      this.byId.set(k.id, k.key);
    }
  }

  seal(material: Uint8Array, keyId: string, spec: MaterialSpec): Uint8Array {
    const current = this.keys[0];
    const id = Buffer.from(current.id, 'utf8');
    const iv = randomBytes(IV_LENGTH);
    const cipher = createCipheriv('aes-256-gcm', asBuffer(current.key), iv);
    cipher.setAAD(aadFor(keyId, spec));
    const body = Buffer.concat([cipher.update(asBuffer(material)), cipher.final()]);
    return concatBytes(Uint8Array.of(VERSION, id.length), id, iv, body, cipher.getAuthTag());
  }

  /** A blob that does not open is a server-side fault (store corruption or a missing master key). */
  open(sealed: Uint8Array, keyId: string, spec: MaterialSpec): Uint8Array {
    const fail = () => new ByokError('INTERNAL_ERROR', 'Stored key material could not be opened.');
    if (sealed.length < 2 || sealed[0] !== VERSION) throw fail();
    const idEnd = 2 + sealed[1];
    if (sealed.length < idEnd + IV_LENGTH + TAG_LENGTH) throw fail();
    const key = this.byId.get(Buffer.from(sealed.subarray(2, idEnd)).toString('utf8'));
    if (!key) throw fail();
    const iv = sealed.subarray(idEnd, idEnd + IV_LENGTH);
    const body = sealed.subarray(idEnd + IV_LENGTH, sealed.length - TAG_LENGTH);
    try {
      const decipher = createDecipheriv('aes-256-gcm', asBuffer(key), asBuffer(iv));
      decipher.setAAD(aadFor(keyId, spec));
      decipher.setAuthTag(asBuffer(sealed.subarray(sealed.length - TAG_LENGTH)));
      return new Uint8Array(Buffer.concat([decipher.update(asBuffer(body)), decipher.final()]));
    } catch {
      throw fail();
    }
  }
}
