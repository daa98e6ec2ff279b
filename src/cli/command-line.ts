/**
 * What every `byok` subcommand shares, below `cli/main` (commands never import main): the
 * command shape, exit codes, the failure line, settings through the one config reader, and
 * where the installed package's own files are.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readConfig, type Config } from '../config/config.js';
import type { CommandName } from '../config/settings.js';
import { isByokError } from '../errors.js';

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(argv: string[]): Promise<number>;
}

export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2 } as const;

/** A usage error: main writes "byok NAME: message" and exits 2. */
export class UsageError extends Error {}

/**
 * `fail(message, code)` for command `name`: writes "byok NAME: message" and returns the code.
 * `fail.usage(message)` is a usage error (exit 2) that points at the command's --help.
 */
export function commandFailure(name: string): ((message: string, code: number) => number) & { usage(message: string): number } {
  const fail = (message: string, code: number): number => {
    process.stderr.write(`byok ${name}: ${message}\n`);
    return code;
  };
  return Object.assign(fail, { usage: (message: string) => fail(`${message} (see byok ${name} --help)`, EXIT.USAGE) });
}

export type Failure = ReturnType<typeof commandFailure>;

/** A command from its help texts and its body; the body gets the command's failure helper. */
export function defineCommand(meta: { readonly name: string; readonly summary: string; readonly usage: string }, run: (argv: string[], fail: Failure) => Promise<number>): Command {
  const fail = commandFailure(meta.name);
  return { ...meta, run: (argv) => run(argv, fail) };
}

/** The command's settings (flags, environment, files); a bad one is a UsageError. */
export function commandConfig(name: CommandName, argv: readonly string[], options: { positionals?: boolean } = {}): Config {
  try {
    return readConfig(name, argv, process.env, options);
  } catch (e) {
    if (isByokError(e) && e.code === 'INVALID_PARAMETER') throw new UsageError(`${e.message} (see byok ${name} --help)`);
    throw e;
  }
}

/** The material file of `--in` or `--private-key` (exactly one): the one input both import and wrap take. */
export function materialSource(s: { materialFile?: string | undefined; privateKeyFile?: string | undefined }): { path: string; kind: 'material' | 'privateKey' } | undefined {
  if ((s.materialFile === undefined) === (s.privateKeyFile === undefined)) return undefined;
  return s.materialFile !== undefined ? { path: s.materialFile, kind: 'material' } : { path: s.privateKeyFile!, kind: 'privateKey' };
}

let root: string | undefined;

/** The package's directory (where package.json and vectors/ are), found from this module, never the cwd. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'byok-hsm') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('byok: cannot find the byok-hsm package.json');
    dir = up;
  }
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
