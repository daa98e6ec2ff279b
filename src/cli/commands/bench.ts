/** `byok bench [--quick]`: the benchmarks in bench/run.ts, with the machine's limit in the same run. */
import { loadOptional } from '../../optional-dependency.js';
import { defineCommand, EXIT } from '../command-line.js';

const usage = `Usage: byok bench [--quick] [--out DIR] [--no-pkcs11] [--no-service] [--imports N] [--memory N]
       byok bench --profile DIR [--quick]

Measures unwrap ops/s per algorithm and key spec (one thread and all cores), SM2 against
sm-crypto, import-token issue/verify, getParametersForImport latency with a warm and an empty
wrapping-key pool, the whole importKeyMaterial against the raw unwrap (1, 16 and 32 in flight, on
one thread and on every worker), the same over HTTP against a real \`byok serve\` (SQLite) from a
load generator in its own process (imports, get-parameters-for-import, full cycles against the
key-generation rate), memory after many imports, and the PKCS#11 backend against a raw pkcs11js
loop when SoftHSM2 is installed — each next to the same run's anchor (\`openssl speed\`, one
core's key generation), as a ratio. Writes JSON, an SVG of ops/s against requests in flight and
against workers, and benny charts to DIR (default bench/results). --quick finishes in about a
minute (CI smoke); --no-service skips the HTTP rows; --imports N sets the memory section's
imports (default 100000); --memory N runs only the memory section,
over N imports (run node with --expose-gc for a GC before each reading).

--profile DIR runs only the rows whose targets are missed (the whole import at 16 and 32 in
flight on one thread and on every worker, the pooled unwrap on every worker, the import over
HTTP at 16 in flight) under the V8 CPU profiler of each thread (in-process: the inspector's
Profiler on the main thread and each worker; the service: \`byok serve\` under --cpu-prof),
writes the .cpuprofile files to DIR and prints per row and thread the self time by category
(RSA/OpenSSL, hashing/HMAC, AES-GCM, SQLite, token, JSON/HTTP/fastify, structured
clone/postMessage, GC, idle, other) and the top functions, in µs per import.

Exit codes: 0 ran, 1 a measurement failed, 2 usage error.`;

export const command = defineCommand({ name: 'bench', summary: 'throughput benchmarks against openssl speed', usage }, async (argv) => {
  const unknown = argv.filter((a, i) => !['--quick', '--no-pkcs11', '--no-service', '--out', '--memory', '--imports', '--profile'].includes(a) && !['--out', '--memory', '--imports', '--profile'].includes(argv[i - 1]));
  if (unknown.length) {
    process.stderr.write(`byok bench: unknown option ${unknown[0]}\n`);
    return EXIT.USAGE;
  }
  const valueless = ['--out', '--memory', '--imports', '--profile'].find((o) => argv.includes(o) && !/^[^-]/.test(argv[argv.indexOf(o) + 1] ?? ''));
  if (valueless) {
    process.stderr.write(`byok bench: ${valueless} needs a value\n`);
    return EXIT.USAGE;
  }
  // benny is a devDependency: from an install without it, DEPENDENCY_MISSING names it.
  const { runBenchmarks } = await loadOptional('benny', () => import('../../../bench/run.js'));
  return runBenchmarks(argv);
});
