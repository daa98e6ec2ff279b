/**
 * The messages between the pool (worker-pool.ts) and its workers (private-key-worker.ts). A
 * worker's first message is the hello: a script that does not send it is not our worker.
 */
import type { UnwrapRequest } from '../crypto-backend.js';

export const WORKER_HELLO = 'byok/private-key-worker/v1';

export interface WorkerHello {
  readonly hello: typeof WORKER_HELLO;
}

export interface WorkerRequest {
  readonly id: number;
  readonly request: UnwrapRequest;
  readonly cacheSize: number;
}

export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly material: Uint8Array; readonly rejected: boolean }
  | { readonly id: number; readonly ok: false; readonly code: string };
