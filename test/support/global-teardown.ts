/** CI stops the test stack after the run (GRIDFLOW_TEST_STACK_DOWN=1); locally it stays up for fast re-runs. */
import { loadConfig } from '../../src/config';
import { createContext, stackDown } from '../../src/stack/manager';
import { applyTestStackEnv } from './env';

export default async function globalTeardown(): Promise<void> {
  if (process.env.GRIDFLOW_TEST_STACK_DOWN !== '1') return;
  applyTestStackEnv();
  await stackDown(createContext(loadConfig(), (m) => process.stderr.write(`[test stack] ${m}\n`)));
}
