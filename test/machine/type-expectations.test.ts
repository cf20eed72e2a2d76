import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('type-level guarantees', () => {
  it('every @ts-expect-error in the expectations file is a real compile error, and nothing else fails', () => {
    const configPath = path.resolve(here, '../../tsconfig.json');
    const { config } = ts.readConfigFile(configPath, ts.sys.readFile);
    const { options } = ts.parseJsonConfigFileContent(config, ts.sys, path.dirname(configPath));
    const file = path.join(here, 'fixtures/type-expectations.ts');
    const program = ts.createProgram([file], { ...options, noEmit: true });
    const diagnostics = ts
      .getPreEmitDiagnostics(program, program.getSourceFile(file))
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    // An unused @ts-expect-error would be reported as TS2578 here.
    expect(diagnostics).toEqual([]);
    const text = ts.sys.readFile(file) ?? '';
    expect(text.match(/@ts-expect-error/g)?.length).toBeGreaterThanOrEqual(10);
  });
});
