/** A PKCS#11 material handle: an object handle in the device, never the material itself. */
import type { MaterialSpec } from '../../algorithms/specs.js';
import type { BackendHandle } from '../backend-base.js';
import type { UnwrapPath } from './capabilities.js';
import type { Handle } from './pkcs11js.js';
import type { PooledSession } from './session-pool.js';

export class Pkcs11MaterialHandle implements BackendHandle {
  readonly backend = 'pkcs11' as const;
  constructor(
    readonly materialSpec: MaterialSpec,
    readonly object: Handle,
    /** Session objects are destroyed on release; persisted ones stay. */
    readonly sessionObject: boolean,
    readonly path: UnwrapPath | 'stored' | 'generated',
    /** Private keys: the DER SubjectPublicKeyInfo checked at import. */
    readonly publicKeySpki?: Uint8Array,
    /** A temporary key that is a random substitute (implicit rejection, see BackendHandle). */
    readonly rejected = false,
    /** The session the object was made on, which must stay open until it is released. */
    readonly owner?: PooledSession,
  ) {}

  get unwrapPath(): string {
    return this.path;
  }

  toJSON(): object {
    return { backend: this.backend, materialSpec: this.materialSpec, path: this.path };
  }
}
