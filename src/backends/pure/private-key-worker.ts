/**
 * Worker thread for RSA / SM2 private-key work: unwraps, and key-pair generation. It says hello
 * first (the pool's start-up handshake), then answers requests. Each worker keeps its own cache
 * of parsed wrapping keys (a KeyObject cannot be shared across threads); an unwrap that comes
 * without its key blob is answered KEY_NOT_CACHED when the key is not (or no longer) there. Replies carry the
 * material in a transferred buffer (no copy left behind here) or an error code, never a message.
 *
 * Key pairs are generated synchronously on this thread, not with the async generateKeyPair:
 * that one runs on libuv's four threads, which the store's fdatasync needs too, so a tenant
 * asking for RSA_4096 keys stalled every other tenant's writes (issue 14).
 */
import { generateKeyPairSync } from 'node:crypto';
import { parentPort, receiveMessageOnPort } from 'node:worker_threads';
import { generateSm2KeyPairNative } from '../../algorithms/sm2/index.js';
import { systemClock } from '../../clock.js';
import { zeroize } from '../../bytes.js';
import { isByokError } from '../../errors.js';
import type { UnwrapRequest } from '../crypto-backend.js';
import { KEY_NOT_CACHED, WORKER_HELLO, type GeneratedKeyPair, type KeyPairParameters, type ReplyBatch, type WorkerBatch, type WorkerHello, type WorkerReply, type WorkerRequest } from './worker-protocol.js';
import { WrappingKeyUnwrapper } from './wrapping-key-unwrapper.js';

let unwrapper: WrappingKeyUnwrapper | undefined;

const DER = { publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } } as const;

function generate(parameters: KeyPairParameters): GeneratedKeyPair {
  const sm2 = parameters.type === 'ec' && parameters.namedCurve === 'SM2' ? generateSm2KeyPairNative() : undefined;
  if (sm2) return { ...sm2, checked: true };
  const pair = parameters.type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: parameters.bits, publicExponent: 0x10001, publicKeyEncoding: DER.publicKeyEncoding, privateKeyEncoding: DER.privateKeyEncoding })
    : generateKeyPairSync('ec', { namedCurve: parameters.namedCurve, publicKeyEncoding: DER.publicKeyEncoding, privateKeyEncoding: DER.privateKeyEncoding });
  return { publicKeySpki: new Uint8Array(pair.publicKey), privateKeyPkcs8: new Uint8Array(pair.privateKey) };
}

/** Bytes that are their buffer's only view (transferring a shared buffer would detach the rest; one listed twice fails the batch). */
function ownBuffer(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  const copy = new Uint8Array(bytes);
  zeroize(bytes);
  return copy;
}

/** One request's reply, and the buffers to transfer with it (the material: no copy left behind here). */
function answer(message: WorkerRequest, transfer: ArrayBuffer[]): WorkerReply {
  if (message.op === 'generate-key-pair') {
    const pair = generate(message.parameters);
    transfer.push(pair.publicKeySpki.buffer as ArrayBuffer, pair.privateKeyPkcs8.buffer as ArrayBuffer);
    return { id: message.id, ok: true, pair };
  }
  unwrapper ??= new WrappingKeyUnwrapper(systemClock, message.cacheSize);
  const { request } = message;
  if (!request.privateKeyBlob && !(request.cacheKey !== undefined && unwrapper.has(request.cacheKey))) {
    return { id: message.id, ok: false, code: KEY_NOT_CACHED };
  }
  const unwrapped = unwrapper.unwrap(request as UnwrapRequest);
  const material = ownBuffer(unwrapped.material);
  transfer.push(material.buffer as ArrayBuffer);
  return { id: message.id, ok: true, material, rejected: unwrapped.rejected };
}

/** Requests received and not yet answered, oldest first. */
const queue: WorkerRequest[] = [];

/** Move every batch already waiting on the port into the queue (no 'message' event follows for them). */
function pull(): void {
  for (let r = receiveMessageOnPort(parentPort!); r; r = receiveMessageOnPort(parentPort!)) queue.push(...(r.message as WorkerBatch));
}

function answerOrFail(message: WorkerRequest, transfer: ArrayBuffer[]): WorkerReply {
  try {
    return answer(message, transfer);
  } catch (e) {
    return { id: message.id, ok: false, code: isByokError(e) ? e.code : 'INTERNAL_ERROR' };
  }
}

/**
 * postMessage cloned the sealed-in private key into this thread: this copy is ours to zero (a
 * parsed key stays cached as a KeyObject, not as these bytes) — once no queued request of the
 * same batch still refers to it (requests of one batch that carry one blob share one copy).
 */
function zeroizeBlob(message: WorkerRequest): void {
  const blob = message.op === 'unwrap' ? message.request.privateKeyBlob : undefined;
  if (blob && !queue.some((m) => m.op === 'unwrap' && m.request.privateKeyBlob === blob)) zeroize(blob);
}

/**
 * Answer the queue. Replies are held while more requests wait than replies are held, then go in
 * one message (see WorkerBatch): with 4 in flight here, a message per 2 answers each way, and
 * the requests those answers set off arrive while the other 2 are worked on, so this thread
 * never waits for the main thread to be scheduled. With nothing queued, a reply goes at once.
 */
function drain(): void {
  let replies: WorkerReply[] = [];
  let transfer: ArrayBuffer[] = [];
  while (queue.length > 0) {
    const message = queue.shift()!;
    replies.push(answerOrFail(message, transfer));
    pull();
    zeroizeBlob(message);
    if (replies.length >= queue.length) {
      const out: ReplyBatch = replies;
      parentPort!.postMessage(out, transfer);
      replies = [];
      transfer = [];
    }
  }
}

parentPort?.on('message', (batch: WorkerBatch) => {
  queue.push(...batch);
  pull();
  drain();
});

const hello: WorkerHello = { hello: WORKER_HELLO };
parentPort?.postMessage(hello);
