/**
 * The pages' scripts (src/dashboard/bundle.ts): src/dashboard/browser bundled for the browser with the
 * wording of view.ts and nothing of Node's; rebuilt when a source changes, not otherwise; a broken source
 * is esbuild's error. And every word the HTML names exists in both languages.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pageScripts } from '../../../src/dashboard/bundle';
import { WORDS } from '../../../src/dashboard/browser/words';

jest.setTimeout(60_000);

const root = path.resolve(__dirname, '..', '..', '..');

test('each page gets one script: its code, common.ts and view.ts\'s wording of ages, nothing of Node', async () => {
  const scripts = await pageScripts();
  expect(Object.keys(scripts).sort()).toEqual(['grid', 'pipeline']);
  for (const [page, text] of Object.entries(scripts)) {
    // An IIFE: the page loads it with a plain <script>.
    expect([page, /^("use strict";\s*)?\(\(\) => \{/.test(text)]).toEqual([page, true]);
    expect([page, text]).toEqual([page, expect.not.stringMatching(/\brequire\(|\bimport\s*\(|^\s*import\s|process\.env|node:/m)]);
    for (const words of ['刚刚', '秒前', '分钟前', '小时前', '天前', 's ago', 'min ago', 'days ago']) expect([page, text]).toEqual([page, expect.stringContaining(words)]);
    // Only the pure part of the server's code: no query, no Temporal.
    expect([page, text]).toEqual([page, expect.not.stringMatching(/statusQuery|SELECT |mapPostgresError|parseHealthQuery/)]);
  }
  expect(scripts.grid).toContain('kpi-equipment-total');
  expect(scripts.pipeline).toContain('freshness-chart');
  // The same build serves every request while the sources are unchanged.
  expect(await pageScripts()).toBe(scripts);
});

describe('from a repository of its own', () => {
  let tmp: string;
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(tmp, file)), { recursive: true });
    fs.writeFileSync(path.join(tmp, file), text);
  };

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-bundle-'));
    write('src/dashboard/shared.ts', "export const word: string = 'one';\n");
    write('src/dashboard/browser/grid.ts', "import { word } from '../shared';\ndocument.title = word;\n");
    write('src/dashboard/browser/pipeline.ts', "document.title = 'pipeline';\n");
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('a changed source, even one only imported, is built again at the next request', async () => {
    const first = await pageScripts(tmp);
    expect(first.grid).toContain('"one"');
    expect(await pageScripts(tmp)).toBe(first);
    write('src/dashboard/shared.ts', "export const word: string = 'two';\n");
    const second = await pageScripts(tmp);
    expect(second.grid).toContain('"two"');
    expect(second.pipeline).toBe(first.pipeline);
  });

  test('a source that does not build, or reaches for Node, is esbuild\'s error; fixed, it builds', async () => {
    write('src/dashboard/browser/grid.ts', 'document.title = ;\n');
    await expect(pageScripts(tmp)).rejects.toThrow(/grid\.ts:1:\d+: ERROR: Unexpected ";"/);
    write('src/dashboard/browser/grid.ts', "import { readFileSync } from 'node:fs';\ndocument.title = readFileSync('x', 'utf8');\n");
    await expect(pageScripts(tmp)).rejects.toThrow(/node:fs/);
    write('src/dashboard/browser/grid.ts', "document.title = 'fixed';\n");
    expect((await pageScripts(tmp)).grid).toContain('"fixed"');
  });
});

test('every data-i18n name in the pages has a word in Chinese and in English', () => {
  for (const page of ['grid', 'pipeline']) {
    const html = fs.readFileSync(path.join(root, 'src', 'dashboard', 'static', `${page}.html`), 'utf8');
    const names = [...html.matchAll(/data-i18n="([^"]+)"/g)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) {
      for (const lang of ['zh', 'en'] as const) expect([page, lang, name, typeof (WORDS[lang] as Record<string, unknown>)[name]]).toEqual([page, lang, name, 'string']);
    }
  }
});
