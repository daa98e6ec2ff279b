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
import { parentPort } from 'node:worker_threads';
import { systemClock } from '../../clock.js';
import { zeroize } from '../../bytes.js';
import { isByokError } from '../../errors.js';
import type { UnwrapRequest } from '../crypto-backend.js';
import { KEY_NOT_CACHED, WORKER_HELLO, type KeyPairParameters, type WorkerHello, type WorkerReply, type WorkerRequest } from './worker-protocol.js';
import { WrappingKeyUnwrapper } from './wrapping-key-unwrapper.js';

let unwrapper: WrappingKeyUnwrapper | undefined;

const DER = { publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } } as const;

function generate(parameters: KeyPairParameters): { publicKeySpki: Uint8Array; privateKeyPkcs8: Uint8Array } {
  const pair = parameters.type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: parameters.bits, publicExponent: 0x10001, publicKeyEncoding: DER.publicKeyEncoding, privateKeyEncoding: DER.privateKeyEncoding })
    : generateKeyPairSync('ec', { namedCurve: parameters.namedCurve, publicKeyEncoding: DER.publicKeyEncoding, privateKeyEncoding: DER.privateKeyEncoding });
  return { publicKeySpki: new Uint8Array(pair.publicKey), privateKeyPkcs8: new Uint8Array(pair.privateKey) };
}

function answer(message: WorkerRequest): void {
  if (message.op === 'generate-key-pair') {
    const pair = generate(message.parameters);
    const reply: WorkerReply = { id: message.id, ok: true, pair };
    parentPort!.postMessage(reply, [pair.publicKeySpki.buffer as ArrayBuffer, pair.privateKeyPkcs8.buffer as ArrayBuffer]);
    return;
  }
  unwrapper ??= new WrappingKeyUnwrapper(systemClock, message.cacheSize);
  const { request } = message;
  try {
    if (!request.privateKeyBlob && !(request.cacheKey !== undefined && unwrapper.has(request.cacheKey))) {
      const reply: WorkerReply = { id: message.id, ok: false, code: KEY_NOT_CACHED };
      parentPort!.postMessage(reply);
      return;
    }
    const { material, rejected } = unwrapper.unwrap(request as UnwrapRequest);
    const reply: WorkerReply = { id: message.id, ok: true, material, rejected };
    parentPort!.postMessage(reply, [material.buffer as ArrayBuffer]);
  } finally {
    // postMessage cloned the sealed-in private key into this thread: this copy is ours to zero
    // (a parsed key stays cached as a KeyObject, not as these bytes).
    if (request.privateKeyBlob) zeroize(request.privateKeyBlob);
  }
}

parentPort?.on('message', (message: WorkerRequest) => {
  try {
    answer(message);
  } catch (e) {
    const reply: WorkerReply = { id: message.id, ok: false, code: isByokError(e) ? e.code : 'INTERNAL_ERROR' };
    parentPort!.postMessage(reply);
  }
});

const hello: WorkerHello = { hello: WORKER_HELLO };
parentPort?.postMessage(hello);
