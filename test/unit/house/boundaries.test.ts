/**
 * The house's boundaries (eslint.config.mjs, docs/ARCHITECTURE.md) really are enforced: a workflow
 * or a core decision that imports an I/O module is refused, and a type-only import is allowed.
 */
import { spawnSync } from 'child_process';
import { readFileSync } from 'fs';
import { join } from 'path';

jest.setTimeout(120_000);

const root = join(__dirname, '../../..');

/** Lints `file` with `extra` appended, through the eslint CLI (its ESM config cannot load inside jest's VM). */
async function problems(file: string, extra: string): Promise<string[]> {
  const text = `${readFileSync(join(root, file), 'utf8')}\n${extra}\n`;
  const run = spawnSync(join(root, 'node_modules/.bin/eslint'), ['--stdin', '--stdin-filename', file, '--format', 'json'], {
    cwd: root,
    input: text,
    encoding: 'utf8',
  });
  if (run.status !== 0 && run.status !== 1) throw new Error(`eslint failed (${run.status}): ${run.stderr}`);
  const [result] = JSON.parse(run.stdout) as Array<{ messages: Array<{ ruleId: string; message: string }> }>;
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

test('workflow code may not import an I/O module, another Temporal package or node builtins', async () => {
  const found = await problems('src/workflows/lifecycle/pause.ts', [
    "import { query } from '../../postgres/connection';",
    "import { Client } from '@temporalio/client';",
    "import { readFileSync } from 'node:fs';",
    'export const _used = [query, Client, readFileSync];',
  ].join('\n'));
  expect(found).toEqual([
    expect.stringMatching(/no-restricted-imports: '..\/..\/postgres\/connection'.*deterministic/),
    expect.stringMatching(/no-restricted-imports: '@temporalio\/client'.*@temporalio\/workflow only/),
    expect.stringMatching(/no-restricted-imports: 'node:fs'.*deterministic/),
  ]);
});

test('a core decision may not do I/O or use Temporal, but may name the I/O layers\' types', async () => {
  const found = await problems('src/core/lag.ts', [
    "import { Pool } from 'pg';",
    "import { sleep } from '@temporalio/workflow';",
    "import type { Row } from '../postgres/warehouse-tables';",
    'export const _used: [unknown, unknown, Row?] = [Pool, sleep];',
  ].join('\n'));
  expect(found).toEqual([
    expect.stringMatching(/no-restricted-imports: 'pg'.*pure decisions/),
    expect.stringMatching(/no-restricted-imports: '@temporalio\/workflow'.*no Temporal/),
  ]);
});

test('a promise nobody awaits is refused anywhere', async () => {
  const found = await problems('src/activities/helpers.ts', 'export function _fire(p: () => Promise<void>) { p(); }');
  expect(found).toEqual([expect.stringMatching(/no-floating-promises/)]);
});
