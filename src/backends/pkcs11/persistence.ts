/**
 * Material at rest on the device: C_CopyObject of the session object as a token object found by
 * a random CKA_ID. The store keeps only the reference: 1 ‖ CKA_ID(16), or 2 ‖ CKA_ID(16) ‖ SPKI
 * for private keys (the public key is not an attribute of a private-key object).
 */
import { randomBytes } from 'node:crypto';
import type { MaterialSpec } from '../../algorithms/specs.js';
import { concatBytes } from '../../bytes.js';
import { ByokError } from '../../errors.js';
import type { Pkcs11Device } from './device.js';
import { Pkcs11MaterialHandle } from './handle.js';
import { checkHonoured } from './readback.js';
import { tokenCopyTemplate } from './templates.js';

const MATERIAL_LABEL_PREFIX = 'byok-material/';
const REF_VERSION = 1;
const REF_VERSION_WITH_SPKI = 2;
const ID_END = 17;

function materialRefId(stored: Uint8Array): Buffer {
  const ok = (stored.length === ID_END && stored[0] === REF_VERSION) || (stored.length > ID_END && stored[0] === REF_VERSION_WITH_SPKI);
  if (!ok) throw new ByokError('INTERNAL_ERROR', 'Stored material reference is malformed.');
  return Buffer.from(stored.subarray(1, ID_END));
}

export class Pkcs11Persistence {
  constructor(
    private readonly device: Pkcs11Device,
    /** The device lets a copy be made non-copyable (capabilities.notCopyableCopies). */
    private readonly notCopyable: boolean,
  ) {}

  /** A token copy, not modifiable (nor copyable where the device allows), read back before it is referenced. */
  async persist(handle: Pkcs11MaterialHandle, keyId: string): Promise<Uint8Array> {
    const { lib: l, p11 } = this.device;
    const id = randomBytes(16);
    const template = tokenCopyTemplate(l, id, `${MATERIAL_LABEL_PREFIX}${keyId}`, this.notCopyable);
    await this.device.withSession((session) => {
      const copy = p11.C_CopyObject(session, handle.object, template);
      checkHonoured(p11, l, session, copy, template, 'the stored copy of key material');
    }, 'Storing key material on the device');
    return handle.publicKeySpki
      ? concatBytes(Uint8Array.of(REF_VERSION_WITH_SPKI), id, handle.publicKeySpki)
      : concatBytes(Uint8Array.of(REF_VERSION), id);
  }

  async load(stored: Uint8Array, materialSpec: MaterialSpec): Promise<Pkcs11MaterialHandle> {
    const id = materialRefId(stored);
    return this.device.withSession((session) => {
      const [object] = this.device.findObjects(session, [{ type: this.device.lib.CKA_ID, value: id }], 1);
      if (!object) {
        this.device.assertLoggedIn(session);
        throw new ByokError('INTERNAL_ERROR', 'Stored key material is missing from the device.');
      }
      const spki = stored[0] === REF_VERSION_WITH_SPKI ? stored.slice(ID_END) : undefined;
      return new Pkcs11MaterialHandle(materialSpec, object, false, 'stored', spki);
    }, 'Loading stored key material');
  }

  async destroy(stored: Uint8Array): Promise<void> {
    const id = materialRefId(stored);
    await this.device.withSession((session) => {
      for (const object of this.device.findObjects(session, [{ type: this.device.lib.CKA_ID, value: id }])) {
        this.device.p11.C_DestroyObject(session, object);
      }
    }, 'Destroying stored key material');
  }
}
