/** Temporal for workflow tests: the real dev server binary, the workflow bundle built once per run. */
import * as fs from 'node:fs';
import { DefaultLogger, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import * as path from 'node:path';
import { loadConfig } from '../../src/config';
import { SEARCH_ATTRIBUTE_TYPES } from '../../src/constants';
import { ensureTemporalCli } from '../../src/stack/fetch';
import { BUNDLE_PATH } from './global-setup';

let quiet = false;

/** Workers log at WARN in tests: the suite's output stays readable. */
export function quietRuntime(): void {
  if (quiet) return;
  quiet = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    /* installed already */
  }
}

export function temporalBinary(): string {
  return ensureTemporalCli(loadConfig(), (m) => process.stderr.write(`[temporal] ${m}\n`));
}

/**
 * A fresh dev server (own SQLite in memory) per test file, with gridflow's search attributes and
 * any extra dynamic config (e.g. a low continue-as-new threshold).
 */
export async function createTestEnv(dynamicConfig: Record<string, unknown> = {}): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const extraArgs = [
    ...Object.entries(SEARCH_ATTRIBUTE_TYPES).flatMap(([k, t]) => ['--search-attribute', `${k}=${t}`]),
    ...Object.entries(dynamicConfig).flatMap(([k, v]) => ['--dynamic-config-value', `${k}=${JSON.stringify(v)}`]),
    '--log-level',
    'error',
  ];
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalBinary() }, extraArgs },
  });
}

/** The bundle global-setup wrote; bundled here if a file is run on its own without it. */
export async function workflowBundle(): Promise<{ code: string }> {
  if (fs.existsSync(BUNDLE_PATH)) return { code: fs.readFileSync(BUNDLE_PATH, 'utf8') };
  const { code } = await bundleWorkflowCode({ workflowsPath: path.resolve(__dirname, '..', '..', 'src', 'workflows', 'index.ts') });
  return { code };
}
