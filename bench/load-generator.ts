/**
 * The HTTP load generator of `byok bench`, run in a process of its own (so its work is not the
 * service's): reads one job as JSON on stdin, drives the service with autocannon over keep-alive
 * connections, and prints one JSON line: requests/s, latency p50 / p99 (ms), status counts.
 *
 * Jobs: `replay` sends prepared requests round-robin (imports with tokens made beforehand, or
 * get-parameters-for-import); `cycle` runs full import cycles per connection: get parameters,
 * wrap fresh material with the public key it returned (RSA-OAEP-SHA-256, here in the client),
 * import it.
 */
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import autocannon from 'autocannon';

export interface PreparedRequest {
  readonly path: string;
  readonly body: string;
}

export interface LoadJob {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly connections: number;
  /** Seconds; or `amount` requests. */
  readonly duration?: number;
  readonly amount?: number;
  readonly mode: 'replay' | 'cycle';
  /** replay: the requests, sent in turn. */
  readonly requests?: readonly PreparedRequest[];
  /** cycle: the project path prefix and the keys to cycle over. */
  readonly apiPrefix?: string;
  readonly keyIds?: readonly string[];
}

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly statuses: Record<string, number>;
  readonly errors: number;
  readonly timeouts: number;
  /** From the first request sent to the last answer (autocannon's own clock ticks once a second). */
  readonly seconds: number;
  readonly completed: number;
  /** The load generator's own CPU (user + system) over the run, µs: its share of the machine. */
  readonly cpuMicroseconds: number;
  /** The first few answers that were not 200, for the report. */
  readonly refusals: readonly string[];
}

function requestsFor(job: LoadJob): autocannon.Request[] {
  if (job.mode === 'replay') {
    let next = 0;
    const all = job.requests ?? [];
    return [{
      method: 'POST',
      setupRequest: (req) => {
        const r = all[next++ % all.length];
        return { ...req, path: r.path, body: r.body };
      },
    }];
  }
  let nextKey = 0;
  const keys = job.keyIds ?? [];
  return [
    {
      method: 'POST',
      setupRequest: (req, context) => {
        const keyId = keys[nextKey++ % keys.length];
        context.keyId = keyId;
        return { ...req, path: `${job.apiPrefix}/get-parameters-for-import`, body: JSON.stringify({ key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' }) };
      },
      onResponse: (status, body, context) => {
        context.params = status === 200 ? JSON.parse(body) : undefined;
        if (status !== 200) refuse(status, body);
      },
    },
    {
      method: 'POST',
      setupRequest: (req, context) => {
        const params = context.params as { public_key: string; import_token: string } | undefined;
        if (!params) return { ...req, path: `${job.apiPrefix}/describe-key`, body: JSON.stringify({ key_id: context.keyId }) };
        const key = createPublicKey({ key: Buffer.from(params.public_key, 'base64'), format: 'der', type: 'spki' });
        const wrapped = publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, materialFor(context.keyId as string));
        return {
          ...req, path: `${job.apiPrefix}/import-key-material`,
          body: JSON.stringify({ key_id: context.keyId, import_token: params.import_token, encrypted_key_material: wrapped.toString('base64') }),
        };
      },
      onResponse: (status, body) => {
        if (status !== 200) refuse(status, body);
      },
    },
  ];
}

const refusals: string[] = [];
function refuse(status: number, body: string): void {
  if (refusals.length < 3) refusals.push(`${status} ${body.slice(0, 200)}`);
}

/** One material per key (a re-import must bring the same material back). */
const materials = new Map<string, Buffer>();
function materialFor(keyId: string): Buffer {
  let m = materials.get(keyId);
  if (!m) materials.set(keyId, (m = randomBytes(32)));
  return m;
}

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const statuses: Record<string, number> = {};
  let first = Infinity;
  let last = 0;
  const cpu0 = process.cpuUsage();
  const instance = autocannon({
    url: job.url, connections: job.connections, pipelining: 1, headers: { 'content-type': 'application/json', ...job.headers },
    ...(job.amount !== undefined ? { amount: job.amount } : { duration: job.duration ?? 3 }),
    requests: requestsFor(job),
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    last = performance.now();
    first = Math.min(first, last - responseTime);
  });
  const result = await instance;
  const cpu = process.cpuUsage(cpu0);
  const seconds = Math.max(1e-3, (last - first) / 1000);
  const completed = Object.values(statuses).reduce((a, b) => a + b, 0);
  return {
    requestsPerSecond: completed / seconds, p50: result.latency.p50, p99: result.latency.p99, statuses,
    errors: result.errors, timeouts: result.timeouts, seconds, completed, refusals, cpuMicroseconds: cpu.user + cpu.system,
  };
}

if (process.argv[1]?.endsWith('load-generator.js')) {
  let input = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => (input += d));
  process.stdin.on('end', () => {
    runLoad(JSON.parse(input) as LoadJob).then(
      (r) => process.stdout.write(JSON.stringify(r) + '\n'),
      (e: unknown) => {
        process.stderr.write(`load generator: ${(e as Error).message}\n`);
        process.exitCode = 1;
      },
    );
  });
}
