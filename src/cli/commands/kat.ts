/**
 * `byok kat [--backend pure|pkcs11] [FILE|DIR ...]`: run known-answer vector files against a
 * backend; per-file counts; exit 1 on any failure.
 */
import { parseArgs } from 'node:util';
import { KAT_BACKENDS } from '../../kat/backends.js';
import { expandVectorPaths, formatReport, runVectorFile } from '../../kat/runner.js';
import type { Command } from '../main.js';

const usage = `Usage: byok kat [--backend pure|pkcs11] [--verbose] [FILE|DIR ...]

Runs known-answer vector files (Wycheproof RsaesOaepDecrypt, RsaesPkcs1Decrypt, KeywrapTest,
RFC 5649 / NIST KWP, the SM2 set) exactly as they stand, against a backend. Directories are
searched for the vector files a runner understands. Default: ./vectors.

Prints "N passed, N failed[, N skipped]" per file and a total; skipped cases name the reason.
  --backend pure     the pure TypeScript backend (default)
  --backend pkcs11   a PKCS#11 device: BYOK_PKCS11_MODULE (default SoftHSM2), BYOK_PKCS11_TOKEN_LABEL
                     or BYOK_PKCS11_SLOT, BYOK_PKCS11_PIN; BYOK_PKCS11_HOST_DECODE=1 for the opt-in
                     TypeScript OAEP decode. What the device cannot do is reported as skipped.
  --verbose          also list the IDs of skipped cases

Exit codes: 0 all passed (skips allowed), 1 a case failed, 2 usage error.`;

export const command: Command = {
  name: 'kat',
  summary: 'run known-answer vectors against a backend',
  usage,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { backend: { type: 'string', default: 'pure' }, verbose: { type: 'boolean', default: false } },
    });
    const openKatOperations = KAT_BACKENDS[values.backend];
    if (!openKatOperations) {
      process.stderr.write(`byok kat: unknown backend '${values.backend}' (${Object.keys(KAT_BACKENDS).join('|')})\n`);
      return 2;
    }
    const files = expandVectorPaths(positionals.length ? positionals : ['vectors']);
    if (files.length === 0) {
      process.stderr.write('byok kat: no vector files found\n');
      return 2;
    }
    const ops = await openKatOperations();
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    try {
      for (const file of files) {
        const report = await runVectorFile(file, ops);
        passed += report.passed;
        failed += report.failed;
        skipped += report.skipped;
        process.stdout.write(formatReport(report, values.verbose) + '\n');
      }
    } finally {
      await ops.close();
    }
    process.stdout.write(`total: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : '') + '\n');
    return failed === 0 ? 0 : 1;
  },
};
