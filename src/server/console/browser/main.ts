/**
 * The console page's entry: sign in (the API token for this tab only), the key list and its
 * operations, Create Key / Import Key, and the import wizard. Every call goes to the Huawei REST
 * routes of this origin (api.ts).
 */
import { ApiError, callKms, type Session } from './api.js';
import { CreateKeyForm } from './create-key.js';
import { byId, say } from './dom.js';
import { ImportWizard } from './import-wizard.js';
import { fetchKeys, renderKeys, type KeyAction, type KeyInfo } from './key-list.js';
import { refusalText } from './refusals.js';
import { clearSession, loadSession, saveSession } from './session-store.js';

let session: Session | undefined;
const current = (): Session => {
  if (!session) throw new ApiError(401, 'KMS.0401', 'Not signed in.');
  return session;
};
const listStatus = byId('list-status');

/** Reload the list; resolves whether it loaded (else its error is shown). */
async function refresh(): Promise<boolean> {
  say(listStatus, 'Loading…');
  const table = byId('key-table');
  table.setAttribute('aria-busy', 'true');
  try {
    const keys = await fetchKeys(current());
    renderKeys(byId('key-rows'), keys, (key, action) => void onAction(key, action));
    say(listStatus, `${keys.length} key${keys.length === 1 ? '' : 's'}. Updated ${new Date().toLocaleTimeString()}.`);
    return true;
  } catch (e) {
    say(listStatus, e instanceof ApiError ? refusalText(e) : String(e), 'error');
    if (e instanceof ApiError && e.status === 401) signOut();
    return false;
  } finally {
    table.removeAttribute('aria-busy');
  }
}

const wizard = new ImportWizard(current, () => void refresh());
const createForm = new CreateKeyForm(current, async (key) => {
  if (key.external) wizard.open(key.keyId, key.keySpec);
  if (await refresh() && !key.external) say(listStatus, `Key ${key.keyId} created and Enabled.`, 'ok');
});

/** The confirmation a destructive operation waits for (with the deletion delay for scheduling). */
let pending: { key: KeyInfo; action: KeyAction } | undefined;

async function run(key: KeyInfo, action: KeyAction): Promise<void> {
  const calls: Partial<Record<KeyAction, [string, object]>> = {
    enable: ['enable-key', {}], disable: ['disable-key', {}], 'delete-material': ['delete-imported-key-material', {}],
    'cancel-deletion': ['cancel-key-deletion', {}],
    'schedule-deletion': ['schedule-key-deletion', { pending_days: byId<HTMLInputElement>('confirm-days').value }],
  };
  const [operation, extra] = calls[action]!;
  let outcome: [string, 'ok' | 'error'];
  try {
    await callKms(current(), operation, { key_id: key.key_id, ...extra });
    outcome = [`${key.key_alias || key.key_id}: ${operation} done.`, 'ok'];
  } catch (e) {
    outcome = [e instanceof ApiError ? refusalText(e) : String(e), 'error'];
  }
  // The list first, then the outcome over its status line (a refusal must stay readable).
  if (await refresh() || outcome[1] === 'error') say(listStatus, ...outcome);
}

async function onAction(key: KeyInfo, action: KeyAction): Promise<void> {
  if (action === 'import') return wizard.open(key.key_id, key.key_spec);
  if (action !== 'delete-material' && action !== 'schedule-deletion') return run(key, action);
  pending = { key, action };
  const name = key.key_alias || key.key_id;
  byId('confirm-text').textContent = action === 'delete-material'
    ? `Delete the key material of ${name}? The key becomes Pending import; only the same material can be imported again.`
    : `Schedule the deletion of ${name}? After the delay the key and its material are deleted for good; until then the deletion can be cancelled.`;
  byId('confirm-days-field').hidden = action !== 'schedule-deletion';
  byId('confirm-form').hidden = false;
  byId(action === 'schedule-deletion' ? 'confirm-days' : 'confirm-ok').focus();
}

byId<HTMLFormElement>('confirm-form').addEventListener('submit', (e) => {
  e.preventDefault();
  byId('confirm-form').hidden = true;
  if (pending) void run(pending.key, pending.action);
  pending = undefined;
});
byId('confirm-cancel').addEventListener('click', () => {
  byId('confirm-form').hidden = true;
  pending = undefined;
});

function showSignedIn(signedIn: boolean): void {
  byId('sign-in-section').hidden = signedIn;
  byId('keys-section').hidden = !signedIn;
  byId('signed-in').hidden = !signedIn;
  byId('project-name').textContent = session?.project ?? '';
  if (!signedIn) {
    byId('create-section').hidden = true;
    wizard.close();
  }
}

function signOut(): void {
  session = undefined;
  clearSession();
  byId('key-rows').replaceChildren();
  showSignedIn(false);
  byId('sign-in-token').focus();
}

byId<HTMLFormElement>('sign-in-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = byId<HTMLInputElement>('sign-in-token');
  const candidate = { token: token.value, project: byId<HTMLInputElement>('sign-in-project').value };
  try {
    await fetchKeys(candidate); // the token is checked before it is kept
  } catch (err) {
    say(byId('sign-in-error'), err instanceof ApiError ? refusalText(err) : String(err), 'error');
    return;
  }
  token.value = '';
  say(byId('sign-in-error'), '');
  session = candidate;
  saveSession(candidate);
  showSignedIn(true);
  await refresh();
  byId('refresh').focus();
});
byId('sign-out').addEventListener('click', signOut);
byId('refresh').addEventListener('click', () => void refresh());
byId('open-create').addEventListener('click', () => createForm.open(false));
byId('open-import-key').addEventListener('click', () => createForm.open(true));

session = loadSession();
showSignedIn(session !== undefined);
if (session) void refresh();
