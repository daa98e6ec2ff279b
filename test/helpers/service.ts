/** Start the real `byok serve` as a child process on a free port, and stop it gracefully. */
import { spawn, type ChildProcess } from 'node:child_process';

export interface RunningService {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  /** SIGTERM and wait for exit; resolves the exit code. */
  stop(): Promise<number | null>;
}

export async function startService(options: { dataDir: string; authTokens: string; args?: string[]; env?: Record<string, string> }): Promise<RunningService> {
  const child = spawn(process.execPath, ['bin/byok.js', 'serve', '--port', '0', '--data-dir', options.dataDir, '--workers', '1', '--log-level', 'info', ...(options.args ?? [])], {
    env: { ...process.env, BYOK_AUTH_TOKENS: options.authTokens, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${out}`)), 30_000);
    const check = () => {
      const m = /byok listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited (${code}):\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve(child.exitCode);
      child.once('exit', (code) => resolve(code));
      child.kill('SIGTERM');
    }),
  };
}

/** POST JSON with headers; returns status and parsed body. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, body: parsed, headers: res.headers };
}
