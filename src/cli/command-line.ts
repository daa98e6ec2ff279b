/** What every `byok` subcommand does alike on failure: one line on stderr, then its exit code. */

/**
 * `fail(message, code)` for command `name`: writes "byok NAME: message" and returns the code.
 * `fail.usage(message)` is a usage error (exit 2) that points at the command's --help.
 */
export function commandFailure(name: string): ((message: string, code: number) => number) & { usage(message: string): number } {
  const fail = (message: string, code: number): number => {
    process.stderr.write(`byok ${name}: ${message}\n`);
    return code;
  };
  return Object.assign(fail, { usage: (message: string) => fail(`${message} (see byok ${name} --help)`, 2) });
}
