/**
 * The keys this tab has created or opened by ID (sessionStorage, IDs only). The list shows them
 * when the service answers list-keys with "not found" (a service without that operation), and
 * "Open key by ID" adds one.
 */
const KEY = 'byok-console-known-keys';

export function knownKeyIds(): string[] {
  try {
    const parsed = JSON.parse(sessionStorage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

export function rememberKeyId(keyId: string): void {
  const ids = knownKeyIds();
  if (!ids.includes(keyId)) sessionStorage.setItem(KEY, JSON.stringify([...ids, keyId]));
}

export function forgetKnownKeys(): void {
  sessionStorage.removeItem(KEY);
}
