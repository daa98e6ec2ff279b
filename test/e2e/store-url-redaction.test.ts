/**
 * Issue 14 defect 8: a store URL is printed (the start-up line, the unreachable-store error, the
 * unknown-store usage error) with every secret masked, in every form a PostgreSQL location takes:
 * the userinfo password, `password=` / `sslpassword=` / other secret query parameters, and
 * libpq's key=value connection strings. Through the real `byok serve`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { redactStoreUrl } from '../../src/store/store-url.js';
import { startPgCluster, type PgCluster } from '../helpers/postgres.js';
import { runServeExpectingExit, startService } from '../helpers/service.js';

const SECRET = 'hunter2-Secret';
const dir = mkdtempSync(join(tmpdir(), 'byok-e2e-redact-'));
const ENGINE_KEYS = {
  BYOK_MASTER_KEY: randomBytes(32).toString('base64'),
  BYOK_TOKEN_SEALING_KEY: randomBytes(32).toString('base64'),
  BYOK_COMMITMENT_KEY: randomBytes(32).toString('base64'),
};
const AUTH = { BYOK_AUTH_TOKENS: 'alice-token=alice' };
let n = 0;
const dataDir = () => join(dir, `d${++n}`);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Each secret-bearing form of a URL, built on a base URL that already has a query. */
const urlForms = (base: string) => ({
  userinfo: base.replace('://postgres@', `://postgres:${SECRET}@`),
  'password=': `${base}&password=${SECRET}`,
  'sslpassword=': `${base}&sslpassword=${SECRET}`,
  'PassWord= (any case)': `${base}&PassWord=${SECRET}`,
});

describe('redactStoreUrl', () => {
  it('masks the userinfo password, secret query parameters and secret key=value pairs, and keeps the rest', () => {
    expect(redactStoreUrl(`postgres://u:${SECRET}@h/db`)).toBe('postgres://u:***@h/db');
    expect(redactStoreUrl(`postgres://u@h/db?sslmode=require&password=${SECRET}`)).toBe('postgres://u@h/db?sslmode=require&password=***');
    expect(redactStoreUrl(`postgresql://u@h/db?sslpassword=${SECRET}&application_name=x`)).toBe('postgresql://u@h/db?sslpassword=***&application_name=x');
    expect(redactStoreUrl(`host=h user=u password=${SECRET} dbname=db`)).toBe('host=h user=u password=*** dbname=db');
    expect(redactStoreUrl(`host=h password = '${SECRET} x' dbname=db`)).toBe('host=h password = *** dbname=db');
    expect(redactStoreUrl(`postgres://u:${SECRET}@h:99999999/db`)).toBe('postgres://(unparsable URL)');
    expect(redactStoreUrl('postgres://h/db?application_name=a')).toBe('postgres://h/db?application_name=a');
  });
});

const cluster = startPgCluster();
if ('skip' in cluster) it.skip(`the start-up line on PostgreSQL: ${cluster.skip}`, () => undefined);

describe.skipIf('skip' in cluster)('byok serve prints no store password', () => {
  const pgc = cluster as PgCluster;
  afterAll(() => pgc.destroy());

  it.each(Object.keys(urlForms('postgresql://postgres@h/db?x=1')))('in the start-up line: %s', async (form) => {
    const url = urlForms(await pgc.createDatabase())[form as keyof ReturnType<typeof urlForms>];
    const svc = await startService({ dataDir: dataDir(), authTokens: 'alice-token=alice', args: ['--store', url, '--log-level', 'warn'], env: ENGINE_KEYS });
    try {
      expect(svc.output()).toMatch(/store postgresql:\/\/postgres(:\*\*\*)?@localhost\/byok_\S*/);
      expect(svc.output()).not.toContain(SECRET);
    } finally {
      await svc.stop();
    }
  });
});

describe('byok serve prints no store password when it cannot start', () => {
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  it.each(Object.entries(urlForms('postgresql://postgres@127.0.0.1:1/db?connect_timeout=2')))('in the unreachable-store error: %s', async (_form, url) => {
    const { code, output } = await runServeExpectingExit(['--port', '0', '--data-dir', dataDir(), '--store', url], { ...ENGINE_KEYS, ...AUTH });
    expect(code).toBe(1);
    expect(output).toMatch(/PostgreSQL key store at postgresql:\/\/postgres(:\*\*\*)?@127\.0\.0\.1:1\/db\?.*could not be reached/);
    expect(output).not.toContain(SECRET);
  });

  it('in the unknown-store error: a key=value connection string', async () => {
    const { code, output } = await runServeExpectingExit(['--port', '0', '--data-dir', dataDir(), '--store', `host=h password=${SECRET} dbname=db`], { ...ENGINE_KEYS, ...AUTH });
    expect(code).toBe(2);
    expect(output).toContain("unknown store 'host=h password=*** dbname=db'");
    expect(output).not.toContain(SECRET);
  });
});
