/**
 * The V8 CPU profiler of this process's main thread and of each of its worker threads, in-process,
 * for `byok bench --profile`: the inspector's Profiler domain on the main thread, and on each
 * worker through the main thread's NodeWorker domain (the inspector's own route to a worker's
 * session), so the workers' code needs no hook. Profiles are V8's `.cpuprofile` JSON.
 */
import { Session } from 'node:inspector';

export interface ThreadProfile {
  /** `main`, or `worker <threadId>`. */
  readonly thread: string;
  readonly profile: CpuProfile;
}

/** The part of V8's Profiler.Profile this bench reads. */
export interface CpuProfile {
  readonly nodes: ReadonlyArray<{
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber?: number };
    readonly children?: readonly number[];
  }>;
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

interface WorkerSession {
  readonly sessionId: string;
  readonly thread: string;
}

/** Sampling interval: V8's default (1 ms) sees too few samples of a 300 µs import. */
const SAMPLING_INTERVAL_US = 100;
const WORKER_ANSWER_TIMEOUT_MS = 30_000;

export class ThreadProfiler {
  private readonly session = new Session();
  private readonly workers: WorkerSession[] = [];
  private readonly pending = new Map<string, (result: unknown) => void>();
  private nextId = 1_000_000;
  private keepAlive: ReturnType<typeof setInterval> | undefined;

  private post<T>(method: string, params: object = {}): Promise<T> {
    return new Promise((resolve, reject) => {
      this.session.post(method, params, (err, result) => (err ? reject(err) : resolve(result as T)));
    });
  }

  /** A call into a worker's session; its answer comes back as a NodeWorker event. */
  private postToWorker<T>(w: WorkerSession, method: string, params: object = {}): Promise<T> {
    const id = this.nextId++;
    const key = `${w.sessionId}/${id}`;
    return new Promise((resolve, reject) => {
      // A worker that exits meanwhile never answers: fail the row instead of waiting for ever.
      const timer = setTimeout(() => {
        this.pending.delete(key);
        reject(new Error(`${w.thread} did not answer ${method}`));
      }, WORKER_ANSWER_TIMEOUT_MS);
      this.pending.set(key, (r) => {
        clearTimeout(timer);
        resolve(r as T);
      });
      this.post('NodeWorker.sendMessageToWorker', { sessionId: w.sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
    });
  }

  /** Start sampling the main thread and every worker thread running now. */
  async start(): Promise<void> {
    // An inspector session does not keep the event loop alive: a pending answer would let the process end.
    this.keepAlive ??= setInterval(() => undefined, 1000);
    this.session.connect();
    this.session.on('NodeWorker.attachedToWorker', (m: { params: { sessionId: string; workerInfo: { workerId: string } } }) => {
      this.workers.push({ sessionId: m.params.sessionId, thread: `worker ${m.params.workerInfo.workerId}` });
    });
    this.session.on('NodeWorker.receivedMessageFromWorker', (m: { params: { sessionId: string; message: string } }) => {
      const reply = JSON.parse(m.params.message) as { id?: number; result?: unknown };
      const key = `${m.params.sessionId}/${reply.id}`;
      const resolve = this.pending.get(key);
      if (resolve) {
        this.pending.delete(key);
        resolve(reply.result);
      }
    });
    // Already running workers are reported right after enable.
    await this.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    await new Promise((r) => setTimeout(r, 50));
    for (const target of [undefined, ...this.workers]) {
      const call = <T>(method: string, params?: object) => (target ? this.postToWorker<T>(target, method, params) : this.post<T>(method, params));
      await call('Profiler.enable');
      await call('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
      await call('Profiler.start');
    }
  }

  /** Stop every thread's profiler and return the profiles (main first). */
  async stop(): Promise<ThreadProfile[]> {
    const out: ThreadProfile[] = [];
    out.push({ thread: 'main', profile: (await this.post<{ profile: CpuProfile }>('Profiler.stop')).profile });
    for (const w of this.workers) {
      const r = await this.postToWorker<{ profile: CpuProfile }>(w, 'Profiler.stop');
      out.push({ thread: w.thread, profile: r.profile });
    }
    await this.post('NodeWorker.disable');
    this.session.disconnect();
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
    return out;
  }
}
