/**
 * A throw-away PostgreSQL cluster: initdb in a temp dir, the server listening only on a Unix
 * socket in that dir (no port to collide on), stopped and removed after. PostgreSQL refuses to
 * run as root, so as root it runs as the `postgres` user (runuser) in a directory that user owns.
 *
 * Without PostgreSQL the tests skip with the reason locally, and fail where they are required
 * (CI or BYOK_REQUIRE_POSTGRES=1), as the SoftHSM2 tests do.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const POSTGRES_REQUIRED = Boolean(process.env.CI) || process.env.BYOK_REQUIRE_POSTGRES === '1';

export interface PgCluster {
  /** The socket directory (the URL's `host`). */
  readonly dir: string;
  /** A connection URL for a database in this cluster (default `postgres`). */
  url(database?: string): string;
  /** A fresh, empty database; returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stop the server (fast: connections are cut, as in an outage) / start it again. */
  stop(): void;
  start(): void;
  /** Stop and remove everything. */
  destroy(): void;
}

/** The directory with initdb/pg_ctl: env BYOK_PG_BINDIR, Debian's newest, or PATH. */
function findBinDir(): string | undefined {
  const fromEnv = process.env.BYOK_PG_BINDIR;
  if (fromEnv) return existsSync(join(fromEnv, 'initdb')) ? fromEnv : undefined;
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).filter((v) => /^\d+$/.test(v) && existsSync(join(debian, v, 'bin', 'initdb')));
    versions.sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(debian, versions[0], 'bin');
  }
  const r = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const onPath = r.status === 0 ? r.stdout.trim() : '';
  return onPath ? onPath.replace(/\/initdb$/, '') : undefined;
}

/** How to run the server's binaries: as ourselves, or as `postgres` when we are root. */
function runAs(): { wrap: (bin: string, args: string[]) => [string, string[]]; uid?: number; gid?: number } | { skip: string } {
  if (userInfo().uid !== 0) return { wrap: (bin, args) => [bin, args] };
  const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  const runuser = spawnSync('sh', ['-c', 'command -v runuser'], { encoding: 'utf8' });
  if (id.status !== 0 || runuser.status !== 0) return { skip: 'running as root, and there is no postgres user or runuser to start PostgreSQL as' };
  return { wrap: (bin, args) => ['runuser', ['-u', 'postgres', '--', bin, ...args]], uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** A started cluster, or the reason there is none (throws instead where PostgreSQL is required). */
export function startPgCluster(): PgCluster | { skip: string } {
  const bin = findBinDir();
  const who = runAs();
  const reason = !bin ? 'PostgreSQL is not installed (apt-get install -y postgresql)' : 'skip' in who ? who.skip : undefined;
  if (reason) {
    if (POSTGRES_REQUIRED) throw new Error(`PostgreSQL tests are required here, but ${reason}`);
    return { skip: reason };
  }
  const { wrap, uid, gid } = who as Exclude<typeof who, { skip: string }>;
  // The postgres user must reach the dir (a root TMPDIR like /root/tmp it cannot), and a Unix
  // socket path has ~100 bytes at most: fall back to /tmp for either.
  const base = uid !== undefined || tmpdir().length > 60 ? '/tmp' : tmpdir();
  const dir = mkdtempSync(join(base, 'byok-pg-'));
  if (uid !== undefined) chownSync(dir, uid, gid!);
  const data = join(dir, 'data');
  const run = (tool: string, args: string[]) => {
    const [cmd, argv] = wrap(join(bin!, tool), args);
    try {
      execFileSync(cmd, argv, { stdio: 'pipe', cwd: dir });
    } catch (e) {
      const err = e as { stderr?: Buffer; stdout?: Buffer };
      throw new Error(`${tool} failed: ${err.stderr?.toString() ?? ''}${err.stdout?.toString() ?? ''}`);
    }
  };
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
  // Socket only; durability of this throw-away server is not what the tests measure.
  appendFileSync(join(data, 'postgresql.conf'), [
    "listen_addresses = ''", `unix_socket_directories = '${dir}'`, 'port = 5432',
    'fsync = off', 'full_page_writes = off', 'max_connections = 100', 'shared_buffers = 16MB', '',
  ].join('\n'));

  let running = false;
  const start = () => {
    run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start']);
    running = true;
  };
  const stop = () => {
    if (!running) return;
    run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    running = false;
  };
  // If the test process dies without its afterAll, do not leave a server behind.
  const onExit = () => {
    if (running) spawnSync(...wrap(join(bin!, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']), { stdio: 'ignore' });
  };
  process.once('exit', onExit);
  start();

  const url = (database = 'postgres') => `postgresql://postgres@localhost/${database}?host=${encodeURIComponent(dir)}`;
  let n = 0;
  return {
    dir,
    url,
    stop,
    start,
    async createDatabase(name = `byok_${process.pid}_${++n}`) {
      const c = new pg.Client({ connectionString: url() });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return url(name);
    },
    destroy() {
      try {
        stop();
      } finally {
        process.off('exit', onExit);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
