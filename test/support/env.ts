/**
 * Tests run against their own local stack, beside (not on top of) the one `npm run demo` uses: its own
 * folder and ports shifted by 20000. Set GRIDFLOW_TEST_USE_ENV=1 to run them against whatever
 * GRIDFLOW_* points at instead (an existing stack or clusters).
 */
import * as path from 'node:path';

export const TEST_PORT_OFFSET = '20000';

export function applyTestStackEnv(env: NodeJS.ProcessEnv = process.env): void {
  if (env.GRIDFLOW_TEST_USE_ENV === '1') return;
  env.GRIDFLOW_HOME = path.resolve(__dirname, '..', '..', '.gridflow-test');
  env.GRIDFLOW_PORT_OFFSET = TEST_PORT_OFFSET;
  // Fluss runs as the stack's default, three tablet servers with replication factor 3 (issue 20: the
  // restore hole that made CI go back to one is closed by sql/exact; docs/RELIABILITY.md).
}
