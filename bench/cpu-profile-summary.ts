/**
 * A V8 `.cpuprofile` as the summary `byok bench --profile` prints: self time by category and the
 * top functions, in µs per operation (per import, per unwrap, per request). Self time of a
 * sample is the gap to the next sample (as Chrome's DevTools count it). A frame that names no
 * category of its own (a builtin, a native call, node's internals) takes its nearest caller's:
 * `run` of better-sqlite3 called from the store is SQLite, `writev` under a socket is HTTP.
 */
import type { CpuProfile } from './thread-profiler.js';

export const CATEGORIES = [
  'RSA/OpenSSL native', 'hashing/HMAC', 'AES-GCM', 'SQLite', 'token', 'JSON/HTTP/fastify',
  'structured clone/postMessage', 'GC', 'idle/waiting', 'other JS', 'other native/(program)',
] as const;
export type Category = (typeof CATEGORIES)[number];

interface Frame {
  readonly functionName: string;
  readonly url: string;
}

const RULES: ReadonlyArray<readonly [Category, (f: Frame) => boolean]> = [
  ['GC', (f) => f.functionName === '(garbage collector)'],
  ['idle/waiting', (f) => f.functionName === '(idle)' || f.functionName === 'epoll_wait'],
  ['other native/(program)', (f) => f.functionName === '(program)'],
  ['RSA/OpenSSL native', (f) => /^(privateDecrypt|publicEncrypt|privateEncrypt|publicDecrypt|rsaFunctionFor|generateKeyPair(Sync)?|createPrivateKey|createPublicKey|prepareAsymmetricKey)$/.test(f.functionName)
    || /\/algorithms\/(rsa|sm2)\//.test(f.url) || f.url.includes('native-bindings')
    // privateDecrypt is the closure rsaFunctionFor returns: an anonymous frame in cipher.js.
    || (f.url === 'node:internal/crypto/cipher' && f.functionName === '')],
  ['hashing/HMAC', (f) => /^(hash|digest|update|createHash|createHmac|Hash|Hmac|timingSafeEqual|oneShotDigest|hmac\w*|_flush)$/i.test(f.functionName)
    || f.url === 'node:internal/crypto/hash' || f.url.includes('/engine/commitments')],
  ['AES-GCM', (f) => /^(Cipheriv|Decipheriv|createCipheriv|createDecipheriv|setAuthTag|getAuthTag|final|setAAD)$/.test(f.functionName)
    || f.url === 'node:internal/crypto/cipher' || /\/(material-seal|symmetric|aes-\w+)\./.test(f.url)],
  ['SQLite', (f) => f.url.includes('better-sqlite3') || /\/store\/sqlite/.test(f.url)],
  ['token', (f) => f.url.includes('/src/token/')],
  ['structured clone/postMessage', (f) => /^(postMessage|receiveMessage|emitMessage|deserialize|serialize)$/.test(f.functionName)
    || f.url.startsWith('node:internal/worker') || f.url.includes('per_context/messageport') || /\/(worker-pool|private-key-worker)\./.test(f.url)],
  ['JSON/HTTP/fastify', (f) => /^(parse|stringify)$/.test(f.functionName) && f.url === ''
    || /fastify|pino|find-my-way|avvio|light-my-request|sonic-boom|fast-json-stringify|secure-json-parse|fast-querystring|\/src\/server\//.test(f.url)
    || /^node:(_http_\w+|http|net|internal\/(http|stream|streams|net)|stream)/.test(f.url)],
];

function ownCategory(f: Frame): Category | undefined {
  for (const [category, matches] of RULES) if (matches(f)) return category;
  return undefined;
}

/** Builtins, native calls and node's own modules take their caller's category. */
const inherits = (f: Frame) => f.url === '' || f.url.startsWith('node:');

export interface FunctionTime {
  readonly name: string;
  readonly category: Category;
  readonly microseconds: number;
}

export interface ProfileSummary {
  /** Wall time the profile covers, µs. */
  readonly spanMicroseconds: number;
  /** Self time per category, µs (all of the span, idle included). */
  readonly byCategory: ReadonlyMap<Category, number>;
  /** Every function's self time, µs, largest first. */
  readonly functions: readonly FunctionTime[];
}

/**
 * `window`: only the samples between these two moments (µs of the monotonic clock the profile's
 * timestamps use, `process.hrtime` on Linux): the load phase of a `--cpu-prof` run that also
 * recorded start-up and shutdown.
 */
export function summarizeProfile(profile: CpuProfile, window?: { readonly from: number; readonly to: number }): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const categoryOf = new Map<number, Category>();
  const resolve = (id: number): Category => {
    const known = categoryOf.get(id);
    if (known) return known;
    const node = byId.get(id)!;
    const frame = node.callFrame;
    let category = ownCategory(frame);
    if (!category) {
      const up = parent.get(id);
      const fromCaller = inherits(frame) && up !== undefined ? resolve(up) : undefined;
      category = fromCaller && fromCaller !== 'idle/waiting' && fromCaller !== 'other native/(program)' ? fromCaller
        : frame.url === '' ? 'other native/(program)' : 'other JS';
    }
    categoryOf.set(id, category);
    return category;
  };
  const self = new Map<number, number>();
  // timeDeltas[i] is the gap before sample i: sample i lasts until the next one.
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i];
    if (window && (at < window.from || at > window.to)) continue;
    const duration = i + 1 < profile.timeDeltas.length ? profile.timeDeltas[i + 1] : 0;
    if (duration > 0) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + duration);
  }
  const byCategory = new Map<Category, number>();
  const byFunction = new Map<string, FunctionTime>();
  for (const [id, us] of self) {
    const category = resolve(id);
    byCategory.set(category, (byCategory.get(category) ?? 0) + us);
    const f = byId.get(id)!.callFrame;
    const file = f.url.replace(/^file:\/\/.*\//, ''); // the file's name: the summary is read by people
    const name = `${f.functionName || '(anonymous)'}${file ? ` ${file}:${f.lineNumber + 1}` : ''}`;
    const prev = byFunction.get(name);
    byFunction.set(name, { name, category, microseconds: (prev?.microseconds ?? 0) + us });
  }
  return {
    spanMicroseconds: window ? Math.min(window.to, profile.endTime) - Math.max(window.from, profile.startTime) : profile.endTime - profile.startTime,
    byCategory,
    functions: [...byFunction.values()].sort((a, b) => b.microseconds - a.microseconds),
  };
}

const fmt = (us: number) => (us >= 100 ? us.toFixed(0) : us.toFixed(1));

/**
 * Plain lines: the thread's busy time per operation, its self time by category (largest first,
 * idle last) and its `top` functions, all in µs per operation.
 */
export function formatSummary(thread: string, summary: ProfileSummary, operations: number, unit: string, top = 12): string[] {
  const per = (us: number) => us / Math.max(1, operations);
  const idle = summary.byCategory.get('idle/waiting') ?? 0;
  const busy = [...summary.byCategory.values()].reduce((a, b) => a + b, 0) - idle;
  const categories = [...summary.byCategory.entries()].filter(([c]) => c !== 'idle/waiting').sort((a, b) => b[1] - a[1]);
  const lines = [
    `  ${thread}: busy ${fmt(per(busy))} µs per ${unit}, idle ${fmt(per(idle))} µs per ${unit} (${operations} ${unit}s in ${(summary.spanMicroseconds / 1e6).toFixed(2)} s)`,
    `    by category: ${categories.map(([c, us]) => `${c} ${fmt(per(us))}`).join(', ')}`,
    `    top functions (self µs per ${unit}):`,
  ];
  for (const f of summary.functions.filter((x) => x.category !== 'idle/waiting').slice(0, top)) lines.push(`      ${fmt(per(f.microseconds)).padStart(7)}  ${f.name} [${f.category}]`);
  return lines;
}
