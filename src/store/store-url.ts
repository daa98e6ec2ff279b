/** Store URLs, without loading the pg driver: the CLI checks and prints them on every start. */

export type PostgresUrl = `postgres://${string}` | `postgresql://${string}`;

export function isPostgresUrl(value: string): value is PostgresUrl {
  return /^postgres(ql)?:\/\//.test(value);
}

/** A URL without its password, for logs and start-up lines. */
export function redactStoreUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}
