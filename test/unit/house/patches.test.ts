/**
 * The patch ledger (src/workflows/patches.ts) is the only way workflow code asks about a patch, every
 * entry is used the way its phase says, and none outlives its end date.
 */
import { readFileSync, readdirSync, statSync } from 'fs';
import { join } from 'path';
import { PATCHES } from '../../../src/workflows/patches';

const root = join(__dirname, '../../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = join(dir, name);
    if (statSync(file).isDirectory()) return sources(file);
    return file.endsWith('.ts') ? [file] : [];
  });
}

const code = sources(join(root, 'src')).map((file) => ({ file: file.slice(root.length + 1), text: readFileSync(file, 'utf8') }));
const entries = Object.entries(PATCHES);

test('patched() and deprecatePatch() are called only through the ledger', () => {
  const bare = code.filter((c) => c.file !== 'src/workflows/patches.ts' && /\b(patched|deprecatePatch)\(/.test(c.text)).map((c) => c.file);
  expect(bare).toEqual([]);
});

test('every patch id is unique and every entry is used as its phase says', () => {
  expect(new Set(entries.map(([, e]) => e.id)).size).toBe(entries.length);
  for (const [key, e] of entries) {
    const call = e.phase === 'patched' ? `patch(PATCHES.${key})` : `retired(PATCHES.${key})`;
    const wrong = e.phase === 'patched' ? `retired(PATCHES.${key})` : `patch(PATCHES.${key})`;
    expect({ key, used: code.some((c) => c.text.includes(call)) }).toEqual({ key, used: true });
    expect({ key, misused: code.filter((c) => c.text.includes(wrong)).map((c) => c.file) }).toEqual({ key, misused: [] });
  }
});

test('no patch outlives its end date: deprecate it, or remove it (the ledger says how)', () => {
  const today = new Date().toISOString().slice(0, 10);
  const overdue = entries.filter(([, e]) => e.removeAfter < today).map(([, e]) => `${e.id} (${e.phase}, remove after ${e.removeAfter})`);
  expect(overdue).toEqual([]);
  for (const [, e] of entries) expect(e.since <= e.removeAfter).toBe(true);
});
