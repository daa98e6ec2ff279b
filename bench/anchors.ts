/**
 * The machine's limit, measured in the same run as our numbers: `openssl speed` private-key
 * operations per second (RSA sign = the private operation a decrypt also costs; SM2 sign).
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';

export interface OpensslAnchor {
  readonly what: string;
  readonly opsPerSecond: number;
  readonly processes: number;
}

function run(args: string[]): string {
  return execFileSync('openssl', ['speed', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 120_000 });
}

/** `openssl speed -mr` lines: +F2:<idx>:<bits>:<sign/s>:<verify/s> for RSA, +F7/+F6 ...:CurveSM2:<sign/s>:... for SM2. */
function parseRsa(out: string, bits: number): number {
  const lines = out.split('\n').filter((l) => l.startsWith('+F2:') && l.split(':')[2] === String(bits));
  const last = lines.at(-1);
  if (!last) throw new Error(`openssl speed printed no rsa${bits} line`);
  return Number(last.split(':')[3]);
}

function parseSm2(out: string): number {
  const line = out.split('\n').filter((l) => /^\+F\d+:.*:CurveSM2:/.test(l)).at(-1);
  if (!line) throw new Error('openssl speed printed no SM2 line');
  return Number(line.split(':')[4]);
}

export function opensslRsa(bits: 2048 | 3072 | 4096, seconds: number, processes = 1): OpensslAnchor {
  const args = ['-seconds', String(seconds), '-mr', ...(processes > 1 ? ['-multi', String(processes)] : []), `rsa${bits}`];
  return { what: `openssl speed rsa${bits} sign/s`, opsPerSecond: parseRsa(run(args), bits), processes };
}

export function opensslSm2(seconds: number): OpensslAnchor {
  return { what: 'openssl speed sm2 sign/s', opsPerSecond: parseSm2(run(['-seconds', String(seconds), '-mr', 'sm2'])), processes: 1 };
}

/**
 * One core's RSA key-pair generation rate: generateKeyPairSync on this thread, as the
 * key-generation workers run it (OpenSSL 3.0's `openssl speed` has no RSA key-generation test).
 * At least `minKeys` keys (the time per key varies widely: prime search).
 */
export function rsaKeyGeneration(bits: 2048 | 3072 | 4096, seconds: number, minKeys = 8): OpensslAnchor {
  let n = 0;
  const start = performance.now();
  while (n < minKeys || performance.now() - start < seconds * 1000) {
    generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 0x10001 });
    n++;
  }
  return { what: `RSA-${bits} key generation, one core (node generateKeyPairSync)`, opsPerSecond: n / ((performance.now() - start) / 1000), processes: 1 };
}
