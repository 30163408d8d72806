/** Waiting on a pipeline workflow's status query: every workflow and e2e test polls the same way. */
import { WorkflowHandle } from '@temporalio/client';
import type { PipelineStatus } from '../../src/core/state';
import { statusQuery } from '../../src/workflows/definitions';
import type { PipelineWorkflow } from '../../src/workflows/pipeline';

/**
 * Poll a pipeline workflow's status query until `predicate` holds; throws with the last status after the
 * timeout. A failed query (the worker restarting, Temporal briefly away) counts as no answer yet.
 */
export async function waitForStatus(
  handle: WorkflowHandle<typeof PipelineWorkflow>,
  what: string,
  predicate: (s: PipelineStatus) => boolean,
  timeoutMs = 240_000,
  intervalMs = 500,
): Promise<PipelineStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: PipelineStatus | undefined;
  while (Date.now() < deadline) {
    last = await handle.query(statusQuery).catch(() => last);
    if (last && predicate(last)) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last, null, 1)}`);
}

