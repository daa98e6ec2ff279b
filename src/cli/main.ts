/**
 * `byok` command dispatch. Each subcommand lives in its own module under src/cli/commands/
 * and exports `command` (see command-line.ts): `run(argv)` resolves the exit code.
 */
import { EXIT, packageVersion, UsageError, type Command } from './command-line.js';

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./commands/serve.js')).command,
  import: async () => (await import('./commands/import.js')).command,
  wrap: async () => (await import('./commands/wrap.js')).command,
  kat: async () => (await import('./commands/kat.js')).command,
  bench: async () => (await import('./commands/bench.js')).command,
  pkcs11: async () => (await import('./commands/pkcs11.js')).command,
  'build-native': async () => (await import('./commands/build-native.js')).command,
};

const SUMMARIES: Record<string, string> = {
  serve: 'run the KMS import service (Huawei and Tencent dialects)',
  import: 'get parameters, wrap and import key material into a running service',
  wrap: 'wrap key material for an import public key (client side)',
  kat: 'run known-answer vectors against a backend',
  bench: 'throughput benchmarks against openssl speed',
  pkcs11: 'report what a PKCS#11 device can do (in the device, on the host, unsupported and why)',
  'build-native': 'build the native addons (PKCS#11 unwrap templates, SM2) where the package is installed',
};

function topUsage(): string {
  const lines = ['Usage: byok <command> [options]', '       byok --version', '', 'Commands:'];
  for (const [name, summary] of Object.entries(SUMMARIES)) lines.push(`  ${name.padEnd(14)}${summary}`);
  lines.push('', 'Run `byok <command> --help` for a command\'s options.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(topUsage() + '\n');
    return name ? EXIT.OK : EXIT.USAGE;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(packageVersion() + '\n');
    return EXIT.OK;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`byok: unknown command '${name}'. Run 'byok --help'.\n`);
    return EXIT.USAGE;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage + '\n');
    return EXIT.OK;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`byok ${name}: ${e.message}\n`);
    return EXIT.USAGE;
  }
}
