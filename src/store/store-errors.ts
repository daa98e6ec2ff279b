/**
 * The store's one refusal that is not an outage: a write the database's own rules reject (a
 * duplicate key ID, a changed commitment). That is our bug, never the client's, and never
 * STORE_UNAVAILABLE: retrying it would not help.
 */
import { ByokError } from '../errors.js';

export function inconsistentWrite(cause?: unknown): ByokError {
  const e = new ByokError('INTERNAL_ERROR', 'The key store refused an inconsistent write.');
  // Kept for the operator (start-up line, logs), never sent to a client: the wire shows code and message only.
  if (cause !== undefined) Object.defineProperty(e, 'cause', { value: cause, enumerable: false });
  return e;
}
