/**
 * Once per test run: bundle the workflow code (every workflow test file reuses the bundle instead of
 * re-bundling) unless only unit tests were selected.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { ensureArtifacts } from '../../src/stack/fetch';
import { applyTestStackEnv } from './env';

/** Beside the stack the tests use (GRIDFLOW_HOME after applyTestStackEnv), so two runs never share it. */
export const BUNDLE_PATH = path.join(
  process.env.GRIDFLOW_TEST_USE_ENV === '1' && process.env.GRIDFLOW_HOME ? process.env.GRIDFLOW_HOME : path.resolve(__dirname, '..', '..', '.gridflow-test'),
  'workflow-bundle.js',
);

export default async function globalSetup(globalConfig: { testPathPattern?: string }): Promise<void> {
  applyTestStackEnv();
  const pattern = globalConfig.testPathPattern ?? '';
  if (/test\/unit/.test(pattern) && !/workflows|e2e/.test(pattern)) return;
  // Downloads (and the Temporal CLI, or its go build) happen here, once, before any test: on a new machine they take
  // minutes, longer than a test hook may (the workflow tests start the Temporal CLI binary).
  ensureArtifacts(loadConfig(), (m) => process.stderr.write(`[setup] ${m}\n`));
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '..', '..', 'src', 'workflows', 'index.ts'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never,
  });
  fs.mkdirSync(path.dirname(BUNDLE_PATH), { recursive: true });
  fs.writeFileSync(BUNDLE_PATH, code);
}
