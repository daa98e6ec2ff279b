/**
 * The key life cycle in one table: which effective states allow each operation, and where it
 * leads. Anything not listed is KEY_STATE_UNSUPPORTED, or the code REFUSALS names for it.
 */
import { ByokError, type ErrorCode } from '../errors.js';
import type { KeyState } from '../store/key-store.js';

export type KeyOperation =
  | 'importMaterial'
  | 'deleteMaterial'
  | 'enable'
  | 'disable'
  | 'scheduleDeletion'
  | 'cancelDeletion'
  | 'useMaterial'
  | 'getParameters';

/** For each operation: allowed from-states → to-state ('same' keeps it). */
const TRANSITIONS: Readonly<Record<KeyOperation, Partial<Record<KeyState, KeyState | 'same'>>>> = {
  getParameters: { PendingImport: 'same', Enabled: 'same' },
  importMaterial: { PendingImport: 'Enabled', Enabled: 'Enabled' },
  deleteMaterial: { PendingImport: 'PendingImport', Enabled: 'PendingImport', Disabled: 'PendingImport' },
  enable: { Enabled: 'Enabled', Disabled: 'Enabled' },
  disable: { Enabled: 'Disabled', Disabled: 'Disabled' },
  scheduleDeletion: { PendingImport: 'PendingDeletion', Enabled: 'PendingDeletion', Disabled: 'PendingDeletion' },
  // Cancelled keys come back disabled (or awaiting material), never silently usable.
  cancelDeletion: { PendingDeletion: 'Disabled' },
  useMaterial: { Enabled: 'same' },
};

/** Refusals an API names apart from KEY_STATE_UNSUPPORTED: using a disabled key (AWS DisabledException). */
const REFUSALS: Readonly<Partial<Record<KeyOperation, Partial<Record<KeyState, ErrorCode>>>>> = {
  useMaterial: { Disabled: 'KEY_DISABLED' },
};

export function transition(operation: KeyOperation, from: KeyState): KeyState {
  const to = TRANSITIONS[operation][from];
  if (to === undefined) {
    const code = REFUSALS[operation]?.[from];
    throw code ? new ByokError(code) : new ByokError('KEY_STATE_UNSUPPORTED', `Operation ${operation} is not allowed in state ${from}.`);
  }
  return to === 'same' ? from : to;
}
