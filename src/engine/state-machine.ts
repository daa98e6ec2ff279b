/**
 * The key life cycle in one table: which effective states allow each operation, and where it
 * leads. Anything not listed is KEY_STATE_UNSUPPORTED.
 */
import { ByokError } from '../errors.js';
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

export function transition(operation: KeyOperation, from: KeyState): KeyState {
  const to = TRANSITIONS[operation][from];
  // The one refusal an API names apart: using a disabled key (AWS DisabledException).
  if (to === undefined && operation === 'useMaterial' && from === 'Disabled') throw new ByokError('KEY_DISABLED');
  if (to === undefined) throw new ByokError('KEY_STATE_UNSUPPORTED', `Operation ${operation} is not allowed in state ${from}.`);
  return to === 'same' ? from : to;
}
