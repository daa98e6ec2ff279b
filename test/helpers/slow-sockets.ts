/** Raw sockets that hold a connection open the slow way (issue 14, defect 4), and when each was closed. */
import { connect, type Socket } from 'node:net';

export interface SlowSockets {
  readonly sockets: readonly Socket[];
  /** How many the server has closed so far. */
  closed(): number;
  /** Wait until every socket is closed, or the time is up; resolves the closed count. */
  allClosedWithin(ms: number): Promise<number>;
  stop(): void;
}

/**
 * `count` sockets to `url`, in turn: a request whose headers are complete (with `headers`, e.g.
 * valid credentials) and whose body then trickles a byte every `everyMs`; the same without them
 * (answered early, the body still trickling); a request whose headers never end (slowloris);
 * and a connection that says nothing at all (idle).
 */
export function openSlowSockets(url: string, count: number, path: string, headers: Record<string, string>, everyMs = 1000): SlowSockets {
  const { hostname, port } = new URL(url);
  const sockets: Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  let closed = 0;
  for (let i = 0; i < count; i++) {
    const s = connect(Number(port), hostname);
    s.on('error', () => {});
    // Read (and drop) whatever the server answers: a paused socket would never see its close.
    s.resume();
    s.on('close', () => void closed++);
    const kind = (['slow-body', 'slow-body-unauthenticated', 'slowloris', 'idle'] as const)[i % 4];
    s.on('connect', () => {
      if (kind === 'idle') return;
      const extra = kind === 'slow-body' ? Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') : '';
      const head = `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${extra}`;
      const trickle = kind === 'slowloris' ? 'X-Pad: a\r\n' : ' ';
      s.write(kind === 'slowloris' ? head : `${head}Content-Length: 30000\r\n\r\n{`);
      timers.push(setInterval(() => {
        if (!s.destroyed) s.write(trickle);
      }, everyMs));
    });
    sockets.push(s);
  }
  const stop = () => {
    for (const t of timers) clearInterval(t);
    for (const s of sockets) s.destroy();
  };
  const allClosedWithin = (ms: number) => new Promise<number>((resolve) => {
    const deadline = Date.now() + ms;
    const poll = setInterval(() => {
      if (closed >= count || Date.now() >= deadline) {
        clearInterval(poll);
        resolve(closed);
      }
    }, 50);
  });
  return { sockets, closed: () => closed, allClosedWithin, stop };
}
