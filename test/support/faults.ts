/**
 * What every fault test (test/e2e/faults*.test.ts) checks after the pipeline healed, and how it waits:
 * one live Flink job per gridflow job name, the pipeline's two replication slots and no other, and a
 * plain poll with a generous deadline (never a timed assertion).
 */
import { loadConfig } from '../../src/config';
import { FlinkRestClient, TERMINAL_JOB_STATES } from '../../src/flink/rest';
import { sourceSql } from './warehouse';

export const flinkRest = () => new FlinkRestClient(loadConfig().flink.restUrl);

/** Live (not terminal) Flink jobs per name, for the jobs of pipeline `name`. */
export async function liveByName(name = 'e2e'): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const j of await flinkRest().jobsOverview()) {
    if (j.name.startsWith(`gridflow/${name}/`) && !TERMINAL_JOB_STATES.has(j.state)) counts[j.name] = (counts[j.name] ?? 0) + 1;
  }
  return counts;
}

/** Poll `check` every half second until it holds; throws naming `what` after the timeout. */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 180_000, intervalMs = 500): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs / 1000} s: ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Exactly one live Flink job per gridflow job name of the e2e pipeline, and its two replication slots (none leaked, none lost). */
export async function expectNoDuplicateNoLeak(): Promise<void> {
  expect(await liveByName()).toEqual({ 'gridflow/e2e/ingest': 1, 'gridflow/e2e/dws': 1, 'gridflow/e2e/ads': 1, 'gridflow/e2e/sink': 1 });
  const slots = await sourceSql("SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'gridflow\\_e2e\\_%' ORDER BY 1");
  expect(slots.map((r) => r.slot_name)).toEqual(['gridflow_e2e_equipment_reading', 'gridflow_e2e_power_equipment']);
}
