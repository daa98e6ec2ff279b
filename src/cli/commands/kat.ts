/**
 * `byok kat [--backend pure|pkcs11] [FILE|DIR ...]`: run known-answer vector files against a
 * backend (default: the vectors shipped with the package); per-file counts; exit 1 on any failure.
 */
import { join } from 'node:path';
import { sm2Engine } from '../../algorithms/sm2/index.js';
import type { KatOperations } from '../../backends/kat-operations.js';
import { pureKatOperations } from '../../backends/pure/kat-operations.js';
import { pkcs11Options, type Config } from '../../config/config.js';
import { settingsHelp } from '../../config/settings-table.js';
import { expandVectorPaths, formatReport, runVectorFile } from '../../kat/runner.js';
import { commandConfig, defineCommand, EXIT, packageRoot, UsageError } from '../command-line.js';

const usage = `Usage: byok kat [--backend pure|pkcs11] [--verbose] [FILE|DIR ...]

Runs known-answer vector files (Wycheproof RsaesOaepDecrypt, RsaesPkcs1Decrypt, KeywrapTest,
RFC 5649 / NIST KWP, the SM2 set) exactly as they stand, against a backend. Directories are
searched for the vector files a runner understands. Default: the vectors/ shipped with byok.

Prints "N passed, N failed[, N skipped]" per file and a total; skipped cases name the reason.
With --backend pkcs11, what the device cannot do is reported as skipped.

${settingsHelp('kat')}

Exit codes: 0 all passed (skips allowed), 1 a case failed, 2 usage error.`;

/** The KAT operations of each backend `byok kat` can drive, from the backend's own factory. */
const KAT_OPERATIONS: Record<Config['settings']['backend'], (config: Config) => Promise<KatOperations>> = {
  pure: async () => pureKatOperations(),
  // Loaded only when asked for: the pure core runs without pkcs11js.
  pkcs11: async (config) => {
    const options = pkcs11Options(config);
    return (await import('../../backends/pkcs11/index.js')).pkcs11KatOperations(options);
  },
};

export const command = defineCommand({ name: 'kat', summary: 'run known-answer vectors against a backend', usage }, async (argv) => {
  const config = commandConfig('kat', argv, { positionals: true });
  const files = expandVectorPaths(config.positionals.length ? [...config.positionals] : [join(packageRoot(), 'vectors')]);
  if (files.length === 0) throw new UsageError('no vector files found');
  const ops = await KAT_OPERATIONS[config.settings.backend](config);
  if (config.settings.backend === 'pure') process.stdout.write(`SM2 engine: ${sm2Engine().engine} (${sm2Engine().detail})\n`);
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  try {
    for (const file of files) {
      const report = await runVectorFile(file, ops);
      passed += report.passed;
      failed += report.failed;
      skipped += report.skipped;
      process.stdout.write(formatReport(report, config.settings.katVerbose) + '\n');
    }
  } finally {
    await ops.close();
  }
  process.stdout.write(`total: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : '') + '\n');
  return failed === 0 ? EXIT.OK : EXIT.FAILURE;
});
