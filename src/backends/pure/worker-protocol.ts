/**
 * The messages between the pool (worker-pool.ts) and its workers (private-key-worker.ts). A
 * worker's first message is the hello: a script that does not send it is not our worker.
 */
import type { UnwrapRequest } from '../crypto-backend.js';

export const WORKER_HELLO = 'byok/private-key-worker/v4';

/** A worker's answer to an unwrap sent without the key blob when it no longer has that key parsed: send it again with the blob. */
export const KEY_NOT_CACHED = 'KEY_NOT_CACHED';

export interface WorkerHello {
  readonly hello: typeof WORKER_HELLO;
}

/** A key pair to generate: RSA with e = 65537, or EC on an OpenSSL-named curve (SM2 included). */
export type KeyPairParameters =
  | { readonly type: 'rsa'; readonly bits: number }
  | { readonly type: 'ec'; readonly namedCurve: string };

/** DER encodings of a generated pair. */
export interface GeneratedKeyPair {
  readonly publicKeySpki: Uint8Array;
  readonly privateKeyPkcs8: Uint8Array;
  /** SM2: the pair was made in the addon, its match (Q = [d]G) checked there; else checkSm2KeyPair must. */
  readonly checked?: boolean;
}

/**
 * An unwrap as it crosses to a worker: the blob (1.2 KB of PKCS#8 for RSA-2048) only when the
 * pool does not know the worker to hold the key parsed under `cacheKey`.
 */
export type WireUnwrapRequest = Omit<UnwrapRequest, 'privateKeyBlob'> & { readonly privateKeyBlob?: Uint8Array };

export type WorkerRequest =
  | { readonly id: number; readonly op: 'unwrap'; readonly request: WireUnwrapRequest; readonly cacheSize: number }
  | { readonly id: number; readonly op: 'generate-key-pair'; readonly parameters: KeyPairParameters };

export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly material: Uint8Array; readonly rejected: boolean }
  | { readonly id: number; readonly ok: true; readonly pair: GeneratedKeyPair }
  | { readonly id: number; readonly ok: false; readonly code: string };

/**
 * What crosses a port after the hello: the requests queued for one worker in one turn of the
 * event loop, and a worker's replies to one batch, each in one message (a message per request
 * each way was most of the main thread's cost per unwrap, on the cores the unwraps need).
 */
export type WorkerBatch = readonly WorkerRequest[];
export type ReplyBatch = readonly WorkerReply[];
