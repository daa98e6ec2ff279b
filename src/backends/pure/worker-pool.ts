/**
 * A pool of worker threads for private-key work (unwraps, key-pair generation), so RSA/SM2 work
 * runs on every core, the event loop stays responsive and libuv's threads stay free for I/O.
 * Requests go to the least-busy worker; each worker parses a token's wrapping key once and caches
 * it (bounded, dropped at token expiry). The pool remembers which worker holds which key, prefers
 * that worker, and then sends the request without the key blob (1.2 KB of PKCS#8 cloned per
 * request was most of the dispatch cost): if the worker has dropped the key meanwhile it answers
 * KEY_NOT_CACHED and gets the request again with the blob. Requests and replies cross in batches
 * (WorkerBatch): on two cores the main thread that dispatches shares the cores the unwraps need,
 * and a message each way per request was most of its cost.
 *
 * The worker script is named explicitly (a URL option, default private-key-worker.js beside this
 * module), never derived from this module's own URL: in a bundle that URL is the bundle, which
 * would start itself as the worker. Each worker must say hello within a timeout, so a script
 * that is not our worker is reported (BACKEND_UNAVAILABLE naming it), never waited on. A worker
 * that dies after its hello is replaced; only the requests it held fail.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ByokError, decryptMaterialFailed, ERROR_CODES, type ErrorCode } from '../../errors.js';
import type { UnwrapRequest } from '../crypto-backend.js';
import type { UnwrapOutcome } from './wrapping-key-unwrapper.js';
import {
  KEY_NOT_CACHED, WORKER_HELLO, type GeneratedKeyPair, type KeyPairParameters, type ReplyBatch, type WireUnwrapRequest, type WorkerBatch, type WorkerReply, type WorkerRequest,
} from './worker-protocol.js';

/** A request without its id (the pool numbers them). */
type Job = WorkerRequest extends infer R ? R extends WorkerRequest ? Omit<R, 'id'> : never : never;

const DEFAULT_START_TIMEOUT_MS = 10_000;

export interface WorkerPoolOptions {
  readonly size: number;
  /** Parsed wrapping keys each worker keeps. */
  readonly cacheSize: number;
  /** The worker script (default: defaultWorkerUrl()). A path or a file: URL. */
  readonly workerUrl?: URL | string;
  /** How long a worker may take to say hello (default 10 s). */
  readonly startTimeoutMs?: number;
}

/**
 * private-key-worker.js beside this module. Run from the TypeScript sources (vitest), the worker
 * must still be plain JS: the compiled one in dist/ (built by `npm test` before vitest runs).
 */
export function defaultWorkerUrl(): URL {
  // A CommonJS bundle has no import.meta.url: there is nothing to resolve against.
  const here = (import.meta as { url?: string }).url;
  if (!here) throw new ByokError('BACKEND_UNAVAILABLE', 'This build has no import.meta.url (a CommonJS bundle?): pass workerUrl, the private-key-worker.js shipped with byok-hsm.');
  return here.endsWith('.ts')
    ? new URL('../../../dist/src/backends/pure/private-key-worker.js', here)
    : new URL('./private-key-worker.js', here);
}

function asUrl(url: URL | string): URL {
  if (url instanceof URL) return url;
  return /^[a-z][a-z0-9+.-]*:/i.test(url) && !/^[a-z]:[\\/]/i.test(url) ? new URL(url) : pathToFileURL(url);
}

type OkReply = Extract<WorkerReply, { ok: true }>;
type NotCachedReply = { readonly id: number; readonly ok: false; readonly code: typeof KEY_NOT_CACHED };

interface Slot {
  readonly worker: Worker;
  /**
   * The cache keys this worker was sent a blob for, with their expiry (ms), oldest first: a
   * mirror of its key cache (same capacity, same order), so mostly right; when wrong, the
   * worker says KEY_NOT_CACHED.
   */
  readonly known: Map<string, number>;
  /** Settles with the worker's hello (or its failure to say one). */
  readonly ready: Promise<void>;
  started: boolean;
  inFlight: number;
  /** Requests for this worker not yet posted: sent as one message at the end of this tick (flush). */
  outbox: WorkerRequest[];
}

interface Waiter {
  readonly slot: Slot;
  readonly resolve: (reply: OkReply | NotCachedReply) => void;
  readonly reject: (e: Error) => void;
}

export class PrivateKeyWorkerPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Waiter>();
  private readonly url: URL;
  private readonly startTimeoutMs: number;
  private readonly cacheSize: number;
  private nextId = 1;
  private closed = false;
  /** Set when a worker failed its handshake: the script is wrong, so no worker is restarted. */
  private broken: string | undefined;

  constructor(options: WorkerPoolOptions) {
    this.url = asUrl(options.workerUrl ?? defaultWorkerUrl());
    this.startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    this.cacheSize = options.cacheSize;
    if (this.url.protocol === 'file:' && !existsSync(fileURLToPath(this.url))) {
      throw new ByokError('BACKEND_UNAVAILABLE', `Worker script missing (${fileURLToPath(this.url)}): run \`npm run build\`, or pass workerUrl.`);
    }
    for (let i = 0; i < options.size; i++) this.slots.push(this.start());
  }

  get size(): number {
    return this.slots.length;
  }

  private start(): Slot {
    const worker = new Worker(this.url);
    worker.unref();
    let lastError: string | undefined;
    let handshake!: { resolve: () => void; reject: (e: Error) => void };
    const ready = new Promise<void>((resolve, reject) => { handshake = { resolve, reject }; });
    ready.catch(() => undefined); // observed by the requests that wait on it
    const slot: Slot = { worker, known: new Map(), ready, started: false, inFlight: 0, outbox: [] };
    const refuse = (why: string) => {
      clearTimeout(timer);
      this.broken = `The worker script ${this.url.href} ${why}; it is not byok's private-key worker (pass workerUrl: the private-key-worker.js shipped with byok-hsm).`;
      handshake.reject(new ByokError('BACKEND_UNAVAILABLE', this.broken));
      void worker.terminate();
    };
    const timer = setTimeout(() => refuse(`did not say hello within ${this.startTimeoutMs} ms`), this.startTimeoutMs);
    timer.unref();
    worker.on('message', (message: ReplyBatch | { hello?: unknown }) => {
      if (slot.started) {
        for (const reply of message as ReplyBatch) this.settle(reply);
      } else if ((message as { hello?: unknown }).hello === WORKER_HELLO) {
        clearTimeout(timer);
        slot.started = true;
        handshake.resolve();
      } else {
        refuse('answered with something other than its hello');
      }
    });
    worker.on('error', (e) => { lastError = e.message; });
    worker.on('exit', (code) => {
      if (this.closed) return;
      if (!slot.started) {
        if (this.broken === undefined) refuse(`exited (code ${code}${lastError ? `: ${lastError}` : ''}) before its hello`);
        return;
      }
      this.replace(slot);
    });
    return slot;
  }

  /** Throws BACKEND_UNAVAILABLE unless every worker has said its hello (a replaced one included). */
  async checkReady(): Promise<void> {
    if (this.closed) throw new ByokError('BACKEND_UNAVAILABLE', 'The private-key worker pool is closed.');
    if (this.broken !== undefined) throw new ByokError('BACKEND_UNAVAILABLE', this.broken);
    try {
      await Promise.all(this.slots.map((s) => s.ready));
    } catch {
      throw new ByokError('BACKEND_UNAVAILABLE', this.broken ?? 'A private-key worker did not start.');
    }
  }

  /** A worker died after its hello: fail only its requests, and start another in its place. */
  private replace(slot: Slot): void {
    for (const [id, waiter] of this.pending) {
      if (waiter.slot !== slot) continue;
      this.pending.delete(id);
      this.done(slot);
      waiter.reject(new ByokError('BACKEND_UNAVAILABLE', 'A private-key worker stopped; it has been replaced.'));
    }
    slot.outbox.length = 0;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots[i] = this.start();
  }

  private settle(reply: WorkerReply): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    this.done(waiter.slot);
    if (reply.ok || reply.code === KEY_NOT_CACHED) waiter.resolve(reply as OkReply | NotCachedReply);
    else if (reply.code === 'DECRYPT_MATERIAL_FAILED') waiter.reject(decryptMaterialFailed());
    else waiter.reject(new ByokError(reply.code in ERROR_CODES ? (reply.code as ErrorCode) : 'INTERNAL_ERROR'));
  }

  async unwrap(request: UnwrapRequest): Promise<UnwrapOutcome> {
    const { cacheKey, cacheUntil } = request;
    const slot = this.pick(cacheKey);
    const wire = (withBlob: boolean): WireUnwrapRequest => ({
      keySpec: request.keySpec, algorithm: request.algorithm, materialSpec: request.materialSpec, ciphertext: request.ciphertext,
      ...(cacheKey !== undefined ? { cacheKey } : {}), ...(cacheUntil !== undefined ? { cacheUntil } : {}),
      ...(request.temporaryKey ? { temporaryKey: true } : {}),
      ...(withBlob ? { privateKeyBlob: request.privateKeyBlob } : {}),
    });
    const knows = cacheKey !== undefined && this.knows(slot, cacheKey);
    let reply = await this.send({ op: 'unwrap', request: wire(!knows), cacheSize: this.cacheSize }, slot);
    if (!reply.ok) {
      slot.known.delete(cacheKey!);
      reply = await this.send({ op: 'unwrap', request: wire(true), cacheSize: this.cacheSize }, slot);
    }
    if (!reply.ok || !('material' in reply)) throw new ByokError('INTERNAL_ERROR', 'A private-key worker answered an unwrap with something else.');
    if (cacheKey !== undefined && cacheUntil !== undefined) this.remember(slot, cacheKey, cacheUntil);
    // The worker transferred the buffer: this is the only copy.
    return { material: reply.material, rejected: reply.rejected };
  }

  /** The least-busy worker, or one that holds the key parsed if it is at most one request busier. */
  private pick(cacheKey: string | undefined): Slot {
    let least = this.slots[0];
    for (const s of this.slots) if (s.inFlight < least.inFlight) least = s;
    if (cacheKey === undefined || this.knows(least, cacheKey)) return least;
    let holder: Slot | undefined;
    for (const s of this.slots) if (s.known.has(cacheKey) && (!holder || s.inFlight < holder.inFlight)) holder = s;
    return holder && holder.inFlight <= least.inFlight + 1 && this.knows(holder, cacheKey) ? holder : least;
  }

  private knows(slot: Slot, cacheKey: string): boolean {
    const until = slot.known.get(cacheKey);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    slot.known.delete(cacheKey);
    return false;
  }

  /** As the worker's cache does: a use moves the key to the newest end, the oldest goes when full. */
  private remember(slot: Slot, cacheKey: string, until: number): void {
    slot.known.delete(cacheKey);
    slot.known.set(cacheKey, until);
    while (slot.known.size > this.cacheSize) slot.known.delete(slot.known.keys().next().value as string);
  }

  /** A key pair generated on a worker thread (synchronously there: libuv's threads stay free). */
  async generateKeyPair(parameters: KeyPairParameters): Promise<GeneratedKeyPair> {
    const reply = await this.send({ op: 'generate-key-pair', parameters });
    if (!reply.ok || !('pair' in reply)) throw new ByokError('INTERNAL_ERROR', 'A private-key worker answered a key generation with something else.');
    // Transferred by the worker: these are the only copies.
    const { publicKeySpki, privateKeyPkcs8, checked } = reply.pair;
    return { publicKeySpki, privateKeyPkcs8, ...(checked ? { checked } : {}) };
  }

  private send(job: Job, chosen?: Slot): Promise<OkReply | NotCachedReply> {
    if (this.closed) return Promise.reject(new ByokError('BACKEND_UNAVAILABLE'));
    if (this.broken !== undefined) return Promise.reject(new ByokError('BACKEND_UNAVAILABLE', this.broken));
    let slot = chosen ?? this.slots[0];
    if (!chosen) for (const s of this.slots) if (s.inFlight < slot.inFlight) slot = s;
    if (++slot.inFlight === 1) slot.worker.ref();
    return slot.started ? this.post(slot, job) : slot.ready.then(() => this.post(slot, job), (e: unknown) => {
      this.done(slot);
      throw e;
    });
  }

  /** Queue the request for its worker; the first in an empty outbox schedules the flush. */
  private post(slot: Slot, job: Job): Promise<OkReply | NotCachedReply> {
    const id = this.nextId++;
    return new Promise<OkReply | NotCachedReply>((resolve, reject) => {
      this.pending.set(id, { slot, resolve, reject });
      if (slot.outbox.push({ id, ...job } as WorkerRequest) === 1) process.nextTick(() => this.flush(slot));
    });
  }

  /**
   * Post a worker's outbox as one message. Scheduled with nextTick from the first request: that
   * runs once the promise continuations of this turn have run, so the requests that replies
   * arriving together set off leave in one message.
   */
  private flush(slot: Slot): void {
    if (slot.outbox.length === 0 || this.closed) return;
    const batch: WorkerBatch = slot.outbox;
    slot.outbox = [];
    slot.worker.postMessage(batch);
  }

  /** A request of this worker's is settled. */
  private done(slot: Slot): void {
    if (--slot.inFlight === 0) slot.worker.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.pending.values()) w.reject(new ByokError('BACKEND_UNAVAILABLE'));
    this.pending.clear();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
