/**
 * The key list: every key of the tenant from list-keys (page by page), one row each with alias,
 * ID, origin, state in the Huawei console's words, key check value and material expiry, and the
 * operations the key's state allows.
 */
import { callKms, type Session } from './api.js';
import { h } from './dom.js';
import { ORIGIN_WORDS, STATE_WORDS, utcText } from './key-words.js';

/** A key as describe-key / list-keys' key_details give it (Huawei's key_info fields). */
export interface KeyInfo {
  readonly key_id: string;
  readonly key_alias: string;
  readonly key_state: string;
  readonly origin: string;
  readonly key_spec: string;
  readonly key_usage?: string;
  readonly key_check_value?: string;
  /** Milliseconds since the epoch as a string; '' when the material never expires or there is none. */
  readonly expiration_time?: string;
  readonly scheduled_deletion_date?: string;
}

interface ListKeysAnswer {
  readonly key_details?: KeyInfo[];
  readonly next_marker?: string;
  readonly truncated?: string | boolean;
}

/** Every key of the tenant: list-keys of every spec, following next_marker while the answer says it is truncated. */
export async function fetchKeys(session: Session): Promise<KeyInfo[]> {
  const keys: KeyInfo[] = [];
  let marker: string | undefined;
  for (let page = 0; page < 100; page++) {
    // Huawei's list-keys lists AES_256 keys unless key_spec is ALL.
    const answer = await callKms<ListKeysAnswer>(session, 'list-keys', { limit: '100', key_spec: 'ALL', ...(marker ? { marker } : {}) });
    keys.push(...(answer.key_details ?? []));
    const more = answer.truncated === true || answer.truncated === 'true';
    if (!more || !answer.next_marker) break;
    marker = answer.next_marker;
  }
  return keys;
}

/** What a row's buttons do. */
export type KeyAction = 'import' | 'enable' | 'disable' | 'delete-material' | 'schedule-deletion' | 'cancel-deletion';

const ACTION_WORDS: Readonly<Record<KeyAction, string>> = {
  import: 'Import material', enable: 'Enable', disable: 'Disable', 'delete-material': 'Delete material',
  'schedule-deletion': 'Schedule deletion', 'cancel-deletion': 'Cancel deletion',
};

/** The operations a key's state and origin allow (as the Huawei console offers them). */
export function actionsFor(key: KeyInfo): KeyAction[] {
  const external = key.origin === 'external';
  switch (key.key_state) {
    case '2': return [...(external ? ['import', 'delete-material'] as const : []), 'disable', 'schedule-deletion'];
    case '3': return [...(external ? ['import', 'delete-material'] as const : []), 'enable', 'schedule-deletion'];
    case '4': return ['cancel-deletion'];
    case '5': return [...(external ? ['import'] as const : []), 'schedule-deletion'];
    default: return [];
  }
}

function cell(label: string, ...content: (Node | string)[]): HTMLTableCellElement {
  return h('td', { 'data-label': label }, ...content);
}

/** Replace the table body with one row per key. */
export function renderKeys(body: HTMLElement, keys: readonly KeyInfo[], onAction: (key: KeyInfo, action: KeyAction) => void): void {
  body.replaceChildren(...keys.map((key) => {
    const state = STATE_WORDS[key.key_state] ?? `State ${key.key_state}`;
    const name = key.key_alias || key.key_id;
    const expiry = key.expiration_time ? utcText(Number(key.expiration_time)) : key.origin === 'external' && key.key_state !== '5' ? 'Never' : '—';
    const buttons = actionsFor(key).map((action) => {
      const button = h('button', { type: 'button', 'data-action': action, 'aria-label': `${ACTION_WORDS[action]}: ${name}` }, ACTION_WORDS[action]);
      button.addEventListener('click', () => onAction(key, action));
      return button;
    });
    const row = h('tr', { 'data-key-id': key.key_id },
      cell('Alias', key.key_alias),
      cell('Key ID', h('code', {}, key.key_id)),
      cell('Origin', ORIGIN_WORDS[key.origin] ?? key.origin),
      cell('Status', h('span', { class: `state-${state.replace(/ /g, '-')}`, 'data-field': 'state' }, state)),
      cell('Key check value', h('code', { 'data-field': 'kcv' }, key.key_check_value || '—')),
      cell('Material expires', h('span', { 'data-field': 'expiry' }, expiry)),
      cell('Operation', h('div', { class: 'toolbar' }, ...buttons)),
    );
    return row;
  }));
}
