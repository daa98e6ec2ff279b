/**
 * Worker thread for RSA / SM2 private-key work. It says hello first (the pool's start-up
 * handshake), then answers requests. Each worker keeps its own cache of parsed wrapping keys (a
 * KeyObject cannot be shared across threads). Replies carry the material in a transferred
 * buffer (no copy left behind here) or an error code, never a message.
 */
import { parentPort } from 'node:worker_threads';
import { systemClock } from '../../clock.js';
import { zeroize } from '../../bytes.js';
import { isByokError } from '../../errors.js';
import { WORKER_HELLO, type WorkerHello, type WorkerReply, type WorkerRequest } from './worker-protocol.js';
import { WrappingKeyUnwrapper } from './wrapping-key-unwrapper.js';

let unwrapper: WrappingKeyUnwrapper | undefined;

parentPort?.on('message', (message: WorkerRequest) => {
  unwrapper ??= new WrappingKeyUnwrapper(systemClock, message.cacheSize);
  try {
    const { material, rejected } = unwrapper.unwrap(message.request);
    const reply: WorkerReply = { id: message.id, ok: true, material, rejected };
    parentPort!.postMessage(reply, [material.buffer as ArrayBuffer]);
  } catch (e) {
    const reply: WorkerReply = { id: message.id, ok: false, code: isByokError(e) ? e.code : 'INTERNAL_ERROR' };
    parentPort!.postMessage(reply);
  } finally {
    // postMessage cloned the sealed-in private key into this thread: this copy is ours to zero
    // (a parsed key stays cached as a KeyObject, not as these bytes).
    zeroize(message.request.privateKeyBlob);
  }
});

const hello: WorkerHello = { hello: WORKER_HELLO };
parentPort?.postMessage(hello);
