/** For e2e tests: bring the test stack up (idempotent; fast when it already runs). */
import { loadConfig } from '../../src/config';
import { createContext, stackUp } from '../../src/stack/manager';

let up: Promise<void> | undefined;

export function ensureStack(): Promise<void> {
  up ??= (async () => {
    const config = loadConfig();
    const ctx = createContext(config, (m) => process.stderr.write(`[test stack] ${m}\n`));
    await stackUp(ctx);
  })();
  return up;
}

/** Time for `stack up` on a cold machine (fetch + build) — e2e beforeAll hooks use this. */
export const STACK_UP_TIMEOUT_MS = 20 * 60_000;
