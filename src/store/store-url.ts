/** Store URLs, without loading the pg driver: the CLI checks and prints them on every start. */

export type PostgresUrl = `postgres://${string}` | `postgresql://${string}`;

export function isPostgresUrl(value: string): value is PostgresUrl {
  return /^postgres(ql)?:\/\//.test(value);
}

const REDACTED = '***';

/**
 * Connection parameters whose value is a secret. libpq and node-postgres take `password` and
 * `sslpassword` (the client key's passphrase) both in the URL query and in key=value strings;
 * anything else named like a secret is masked too, since a typo'd name still holds one.
 */
const SECRET_PARAMETER = /pass|secret|token|credential|api[-_]?key/i;

/** `key=value key='quoted value'` (libpq's connection string): secret values masked. */
function redactKeyValueString(text: string): string {
  return text.replace(/([A-Za-z_][\w-]*)(\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)/g, (all, key: string, eq: string) =>
    (SECRET_PARAMETER.test(key) ? `${key}${eq}${REDACTED}` : all));
}

/**
 * A store URL or connection string as it may be printed (start-up line, errors): the userinfo
 * password, every secret query parameter and every secret key=value pair masked. The one place
 * a store location is made printable: nothing else may print `--store`.
 */
export function redactStoreUrl(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return redactKeyValueString(url);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Unparsable, so its parts are unknown: print only the scheme.
    return `${url.slice(0, url.indexOf(':'))}://(unparsable URL)`;
  }
  if (u.password) u.password = REDACTED;
  for (const key of [...u.searchParams.keys()]) if (SECRET_PARAMETER.test(key)) u.searchParams.set(key, REDACTED);
  // URLSearchParams escapes '*' as %2A; keep the mask readable.
  return u.toString().replaceAll('%2A%2A%2A', REDACTED);
}
