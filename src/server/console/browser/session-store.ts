/**
 * The signed-in session, kept for this tab only (sessionStorage: gone when the tab closes, never
 * shared with other tabs, never sent anywhere but in the X-Auth-Token header).
 */
import type { Session } from './api.js';

const KEY = 'byok-console-session';

export function loadSession(): Session | undefined {
  try {
    const parsed = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Partial<Session> | null;
    return typeof parsed?.token === 'string' && typeof parsed.project === 'string' ? { token: parsed.token, project: parsed.project } : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}
