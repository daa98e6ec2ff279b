/**
 * The engine's inputs are literal unions: test/types/engine-inputs.ts compiles under the
 * project's compiler options with its `@ts-expect-error` lines (each one a misspelt algorithm or
 * spec) and nothing else failing.
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

describe('literal-union inputs', () => {
  it('a misspelt algorithm, spec or origin fails tsc; the correct spellings compile', () => {
    const configPath = fileURLToPath(new URL('../tsconfig.json', import.meta.url));
    const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(String(d.messageText)); } })!;
    const file = fileURLToPath(new URL('./types/engine-inputs.ts', import.meta.url));
    const program = ts.createProgram([file], { ...config.options, noEmit: true });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ''}:${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(diagnostics).toEqual([]);
    // The file really has the expectations: eleven misspellings.
    expect(ts.sys.readFile(file)!.match(/^\s*\/\/ @ts-expect-error/gm)).toHaveLength(11);
  }, 60_000);
});
