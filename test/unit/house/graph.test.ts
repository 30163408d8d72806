/**
 * The import graph (test/support/import-graph.ts): no cycle among src/'s files, no export nobody imports.
 * Here rather than in an npm script so that `npm test` runs it with the house's other rules; the synthetic
 * trees below prove that it bites on each kind of reference.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { analyse, checkRepository, ENTRY_POINTS, findCycles, formatReport, parseFile } from '../../support/import-graph';

const root = join(__dirname, '../../..');

test('src/ has no import cycle and no export that no other file imports', () => {
  // On failure: each cycle with one way round it (break it by moving what both sides need into the lower
  // layer, src/core for what workflows and activities share), each unused export with what to do.
  const report = checkRepository(root);
  expect(report.files).toBeGreaterThan(100);
  expect(formatReport(report)).toBe('');
});

const tree = (files: Record<string, string>) => new Map(Object.entries(files));

describe('cycles', () => {
  test('a cycle of type-only imports, inline import() types and re-exports is one component', () => {
    const report = analyse(tree({
      'src/core/a.ts': "import type { B } from './b';\nexport type A = B[];",
      'src/core/b.ts': "export type B = import('../activities/c').C;",
      'src/activities/c.ts': "export * from '../core/a';\nexport type C = string;",
      'src/core/d.ts': "import type { A } from './a';\nexport const d: A = [];",
    }), []);
    expect(report.cycles).toEqual([{
      files: ['src/activities/c.ts', 'src/core/a.ts', 'src/core/b.ts'],
      path: 'src/activities/c.ts:1 → src/core/a.ts:1 (type) → src/core/b.ts:1 (type) → src/activities/c.ts',
    }]);
  });

  test('export … from, require and await import() are edges too', () => {
    const report = analyse(tree({
      'src/a.ts': "export { b } from './b';",
      'src/b.ts': "export const b = 1;\nexport async function c() { const { a } = await import('./c'); return a; }",
      'src/c.ts': "const { b } = require('./a');\nexport const a = b;",
    }), []);
    expect(report.cycles.map((c) => c.files)).toEqual([['src/a.ts', 'src/b.ts', 'src/c.ts']]);
  });

  test('only src/ is checked for cycles; separate components are reported separately', () => {
    expect(findCycles(new Map([
      ['x', ['y']], ['y', ['x']], ['z', ['z']], ['w', ['x']],
    ]))).toEqual([['x', 'y'], ['z']]);
    const report = analyse(tree({
      'src/a.ts': "import { t } from '../test/t';\nexport const a = t;",
      'test/t.ts': "import { a } from '../src/a';\nexport const t = a;",
    }), []);
    expect(report.cycles).toEqual([]);
  });
});

describe('unused exports', () => {
  test('an export no other file imports is found, and whether its own file uses it', () => {
    const report = analyse(tree({
      'src/a.ts': 'export const used = 1;\nexport const inFile = 2;\nexport function dead() {}\nexport const total = inFile + 1;',
      'test/a.test.ts': "import { used, total } from '../src/a';\nvoid [used, total];",
    }), []);
    expect(report.unused).toEqual([
      { file: 'src/a.ts', name: 'inFile', line: 2, usedInFile: true },
      { file: 'src/a.ts', name: 'dead', line: 3, usedInFile: false },
    ]);
    expect(formatReport(report)).toMatch(/src\/a.ts:2 exports inFile.*drop `export`\)\nsrc\/a.ts:3 exports dead.*delete it/);
  });

  test('uses through re-exports, export *, namespaces, inline types and destructured requires count; an unused re-export does not', () => {
    const report = analyse(tree({
      'src/base.ts': [
        'export const viaReexport = 1;', 'export const viaStar = 2;', 'export const viaNamespace = 3;',
        'export type ViaInlineType = string;', 'export const viaRequire = 4;', 'export const nobody = 5;',
        'export const reexportedButUnused = 6;',
      ].join('\n'),
      'src/index.ts': "export { viaReexport, reexportedButUnused } from './base';\nexport * from './base';",
      'src/user.ts': [
        "import { viaReexport, viaStar } from './index';",
        "import * as base from './base';",
        "export const all = [viaReexport, viaStar, base.viaNamespace];",
        "export type T = import('./base').ViaInlineType;",
      ].join('\n'),
      'test/user.test.ts': [
        "import { all, T } from '../src/user';",
        "const { viaRequire } = require('../src/base') as typeof import('../src/base');",
        'void [all, viaRequire] as unknown as T;',
      ].join('\n'),
    }), []);
    // Both: the re-export nobody imports, and what only it named.
    expect(report.unused.map((u) => `${u.file} ${u.name}`)).toEqual(['src/base.ts nobody', 'src/base.ts reexportedButUnused', 'src/index.ts reexportedButUnused']);
  });

  test('a namespace import used as a value takes every export; entry points are used by definition', () => {
    const report = analyse(tree({
      'src/a.ts': 'export const x = 1;\nexport const y = 2;',
      'src/b.ts': "import * as a from './a';\nexport const all = a;",
      'src/main.ts': 'export function main() {}\nexport function other() {}',
    }), [{ file: 'src/main.ts', names: ['main'], why: 'test' }]);
    expect(report.unused.map((u) => `${u.file} ${u.name}`)).toEqual(['src/b.ts all', 'src/main.ts other']);
  });
});

test('every entry point exists and says why it is one', () => {
  for (const e of ENTRY_POINTS) {
    const text = readFileSync(join(root, e.file), 'utf8');
    const exported = parseFile(e.file, text, () => true).exports.map((x) => x.name);
    expect({ file: e.file, missing: e.names === '*' ? [] : e.names.filter((n) => !exported.includes(n)) }).toEqual({ file: e.file, missing: [] });
    expect(e.why.length).toBeGreaterThan(20);
  }
});
