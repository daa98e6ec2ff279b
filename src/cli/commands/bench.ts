/** `byok bench [--quick]`: the benchmarks in bench/run.ts, with the machine's limit in the same run. */
import { loadOptional } from '../../optional-dependency.js';
import { defineCommand, EXIT } from '../command-line.js';

const usage = `Usage: byok bench [--quick] [--out DIR] [--no-pkcs11]

Measures unwrap ops/s per algorithm and key spec (one thread and all cores), SM2 against
sm-crypto, import-token issue/verify, getParametersForImport latency with a warm and an empty
wrapping-key pool, the whole importKeyMaterial against the raw unwrap, memory after many imports,
and the PKCS#11 backend against a raw pkcs11js loop when SoftHSM2 is installed — each next to the
same run's \`openssl speed\` figure, as a ratio. Writes JSON and benny charts to DIR
(default bench/results). --quick finishes in about a minute (CI smoke).

Exit codes: 0 ran, 1 a measurement failed, 2 usage error.`;

export const command = defineCommand({ name: 'bench', summary: 'throughput benchmarks against openssl speed', usage }, async (argv) => {
  const unknown = argv.filter((a, i) => !['--quick', '--no-pkcs11', '--out'].includes(a) && argv[i - 1] !== '--out');
  if (unknown.length) {
    process.stderr.write(`byok bench: unknown option ${unknown[0]}\n`);
    return EXIT.USAGE;
  }
  // benny is a devDependency: from an install without it, DEPENDENCY_MISSING names it.
  const { runBenchmarks } = await loadOptional('benny', () => import('../../../bench/run.js'));
  return runBenchmarks(argv);
});
