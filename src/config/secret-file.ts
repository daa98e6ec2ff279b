/**
 * Files that hold secrets (`keys.json`, `auth-tokens.json`): one rule for reading them and one
 * for writing them. Read: refused when group or others may access them, as ssh refuses such a
 * private key. Written: 0600 whoever made the directory (the mode is given at open, not left to
 * the umask or the directory), whole and fsynced in a temp file that is then linked or renamed
 * into place, and that temp file removed if anything fails (a full disk leaves no `*.tmp-*`).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { ByokError } from '../errors.js';

/** The text of the secret file at `path` (`what` names it in errors: "keys file", "auth file"). */
export function readSecretFile(path: string, what: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (e) {
    throw new ByokError('INVALID_PARAMETER', `The ${what} ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, { cause: e });
  }
  if ((mode & 0o077) !== 0) {
    throw new ByokError('INVALID_PARAMETER', `The ${what} ${path} must not be accessible by group or others (chmod 600).`);
  }
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ByokError('INVALID_PARAMETER', `The ${what} ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, { cause: e });
  }
}

/** How the complete temp file takes its place: a new file (never overwriting) or a replacement. */
export type SecretFilePlacement = 'create' | 'replace';

/**
 * Write `content` to `path` through a fsynced 0600 temp file. 'create' links it into place and
 * leaves an existing file alone (another process won the race: its secrets may already be in
 * use), 'replace' renames it over the old one. Failures are INTERNAL_ERROR naming the file and
 * the errno; the temp file is gone either way. Returns false when 'create' found a file there.
 */
export function writeSecretFile(path: string, content: string, placement: SecretFilePlacement, what: string): boolean {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let created = false;
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    created = true;
    try {
      // writeSync may write less than asked (a nearly full disk): loop until all of it is down.
      const bytes = Buffer.from(content);
      for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (placement === 'replace') renameSync(tmp, path);
    else return linkUnlessExists(tmp, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'no code';
    throw new ByokError('INTERNAL_ERROR', `The ${what} ${path} could not be written (${code}).`, { cause: e });
  } finally {
    if (created) rmSync(tmp, { force: true });
  }
}

function linkUnlessExists(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return false;
  }
}
