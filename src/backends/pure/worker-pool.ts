/**
 * A pool of worker threads for private-key unwraps, so RSA/SM2 work runs on every core and the
 * event loop stays responsive. Requests go to the least-busy worker; each worker parses a token's
 * wrapping key once and caches it (bounded, dropped at token expiry).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ByokError, decryptMaterialFailed, ERROR_CODES, type ErrorCode } from '../../errors.js';
import type { WorkerReply, WorkerRequest } from './private-key-worker.js';
import type { RawUnwrapRequest } from './wrapping-key-unwrapper.js';

/**
 * The compiled worker script. Under vitest this module runs from src/*.ts; the worker must be
 * plain JS, so it is taken from dist/ (built by `npm test` before vitest runs).
 */
function workerScript(): string {
  const here = fileURLToPath(import.meta.url);
  const js = here.endsWith('.ts')
    ? here.replace(/([\\/])src([\\/]backends[\\/]pure[\\/])worker-pool\.ts$/, '$1dist$1src$2private-key-worker.js')
    : here.replace(/worker-pool\.js$/, 'private-key-worker.js');
  if (!existsSync(js)) throw new ByokError('BACKEND_UNAVAILABLE', `Worker script missing (${js}); run \`npm run build\`.`);
  return js;
}

interface Slot {
  readonly worker: Worker;
  inFlight: number;
}

export class PrivateKeyWorkerPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, { resolve: (m: Uint8Array) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed = false;

  constructor(size: number, private readonly cacheSize: number) {
    const script = workerScript();
    for (let i = 0; i < size; i++) {
      const worker = new Worker(script);
      const slot: Slot = { worker, inFlight: 0 };
      worker.on('message', (reply: WorkerReply) => this.settle(slot, reply));
      worker.on('error', () => this.failAll());
      worker.unref();
      this.slots.push(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  private settle(slot: Slot, reply: WorkerReply): void {
    slot.inFlight--;
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if (reply.ok) waiter.resolve(new Uint8Array(reply.material));
    else if (reply.code === 'DECRYPT_MATERIAL_FAILED') waiter.reject(decryptMaterialFailed());
    else waiter.reject(new ByokError(reply.code in ERROR_CODES ? (reply.code as ErrorCode) : 'INTERNAL_ERROR'));
  }

  private failAll(): void {
    for (const w of this.pending.values()) w.reject(new ByokError('BACKEND_UNAVAILABLE'));
    this.pending.clear();
  }

  unwrap(request: RawUnwrapRequest): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new ByokError('BACKEND_UNAVAILABLE'));
    let slot = this.slots[0];
    for (const s of this.slots) if (s.inFlight < slot.inFlight) slot = s;
    const id = this.nextId++;
    slot.inFlight++;
    if (slot.inFlight === 1) slot.worker.ref();
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const message: WorkerRequest = { id, request, cacheSize: this.cacheSize };
      slot.worker.postMessage(message);
    }).finally(() => {
      if (slot.inFlight === 0) slot.worker.unref();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
