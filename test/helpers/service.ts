/** Start the real `byok serve` as a child process on a free port, and stop it gracefully. */
import { spawn, type ChildProcess } from 'node:child_process';

export interface RunningService {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** Resolves once the output matches (a readiness wait, bounded). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Send the signal (default SIGTERM) and wait for exit; resolves the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  readonly dataDir: string;
  /** BYOK_AUTH_TOKENS; omit to exercise the token file in the data directory. */
  readonly authTokens?: string;
  readonly args?: string[];
  readonly env?: Record<string, string>;
}

/** Spawn `byok serve --port 0` and resolve once it prints where it listens. */
export async function startService(options: StartOptions): Promise<RunningService> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env.BYOK_AUTH_TOKENS;
  if (options.authTokens !== undefined) env.BYOK_AUTH_TOKENS = options.authTokens;
  const child = spawn(process.execPath, ['bin/byok.js', 'serve', '--port', '0', '--data-dir', options.dataDir, '--workers', '1', '--log-level', 'info', ...(options.args ?? [])], {
    env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);

  const waitForOutput = (pattern: RegExp, timeoutMs = 30_000) => new Promise<RegExpExecArray>((resolve, reject) => {
    const done = (fn: () => void) => {
      clearTimeout(timer);
      listeners.delete(check);
      child.off('exit', onExit);
      fn();
    };
    const check = () => {
      const m = pattern.exec(out);
      if (m) done(() => resolve(m));
    };
    const onExit = (code: number | null) => done(() => reject(new Error(`service exited (${code}) before ${pattern}:\n${out}`)));
    const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for ${pattern}:\n${out}`))), timeoutMs);
    listeners.add(check);
    child.once('exit', onExit);
    check();
  });

  const url = (await waitForOutput(/byok listening on (http:\/\/\S+)/))[1];
  return {
    url,
    child,
    output: () => out,
    waitForOutput,
    stop: (signal = 'SIGTERM') => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
      child.once('exit', (code) => resolve(code));
      child.kill(signal);
    }),
  };
}

/** Run `byok serve` expecting it to fail at start; resolves its exit code and output. */
export function runServeExpectingExit(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/byok.js', 'serve', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
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
