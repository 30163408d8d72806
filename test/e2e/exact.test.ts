/**
 * Exact after any restore (issue 20), on the real stack with the pipeline's own workflow and watch.
 *
 * For each job (ingest, dws, ads, sink): right after a completed checkpoint, four changes are made in the
 * source and reach the sink; before the job's next checkpoint the job is lost (cancelled through Flink's
 * REST API: the loss a failing task or a lost JobManager causes); while it is down every change is undone
 * in the source; the watch brings the job back from its newest retained checkpoint, so the restored job
 * reads each change and its undo together. The sink must equal the contract again, with no later source
 * change to help it. The undo kinds:
 *   - a reading inserted (the equipment's new latest) then deleted,
 *   - an equipment's latest reading updated then restored,
 *   - an equipment inserted (in a region, type and voltage level of its own) then deleted,
 *   - an equipment moved to another region and back.
 * Before sql/exact, the dws case left the deleted reading in dw.ads_equipment_health for good.
 */
import { loadConfig } from '../../src/config';
import { FlinkRestClient, TERMINAL_JOB_STATES } from '../../src/flink/rest';
import { JobName } from '../../src/core/spec';
import { RunningPipeline, allRunning, runPipeline } from '../support/pipeline';
import { STACK_UP_TIMEOUT_MS, ensureStack } from '../support/stack';
import { assertConsistent, releasePipeline, resetWarehouse, sinkSql, sourceSql, testSpec } from '../support/warehouse';

jest.setTimeout(20 * 60_000);

// Checkpoints every 20 s: a change reaches the sink in a few seconds, so the job is lost well before its
// next checkpoint and restores from the one taken just before the change.
const WATCH = { interval: '2s', readinessTimeout: '3min', checkpointStallAfter: '3min', maxRestarts: 50 } as never;
const spec = () => testSpec({ checkpointInterval: '20s', watch: WATCH });
const rest = () => new FlinkRestClient(loadConfig().flink.restUrl);

let pipeline: RunningPipeline;
const timings: Record<string, number> = {};

beforeAll(async () => {
  await ensureStack();
  await resetWarehouse(spec());
  pipeline = await runPipeline(spec());
  await pipeline.waitStatus('RUNNING', allRunning, 600_000);
  await assertConsistent(spec(), 'after deploy', 180_000);
}, STACK_UP_TIMEOUT_MS + 600_000);

afterAll(async () => {
  process.stderr.write(`[exact] sink equal again after the restore (ms): ${JSON.stringify(timings)}\n`);
  await pipeline?.stop();
  await releasePipeline(spec()).catch(() => undefined);
});

async function liveJob(job: JobName): Promise<string> {
  const live = (await rest().jobsOverview()).filter((j) => j.name === `gridflow/e2e/${job}` && !TERMINAL_JOB_STATES.has(j.state));
  if (live.length !== 1) throw new Error(`expected one live ${job} job, found ${live.length}`);
  return live[0].jid;
}

const completed = async (jid: string) => (await rest().checkpoints(jid)).counts.completed;

/** Wait for the job's next completed checkpoint; returns the count of completed checkpoints then. */
async function nextCheckpoint(jid: string): Promise<number> {
  const before = await completed(jid);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const now = await completed(jid);
    if (now > before) return now;
    if (Date.now() > deadline) throw new Error(`no checkpoint of ${jid} completed within 120 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Targets {
  withNewReading: string;
  withUpdatedReading: { equipmentId: string; readingId: string; load: string; temperature: string };
  inserted: string;
  moved: { equipmentId: string; from: string; to: string };
}

/** Four distinct equipment of the sample for this round, and one that does not exist yet. */
async function targets(round: number, job: JobName): Promise<Targets> {
  const withReadings = await sourceSql(
    `SELECT e.equipment_id, e.region FROM power_equipment e
      WHERE EXISTS (SELECT 1 FROM equipment_reading r WHERE r.equipment_id = e.equipment_id)
      ORDER BY e.equipment_id OFFSET $1 LIMIT 3`,
    [round * 7 + 5],
  );
  const [a, b, d] = withReadings.map((r) => ({ id: String(r.equipment_id), region: String(r.region) }));
  const latest = await sourceSql(
    `SELECT reading_id, load_mw, temperature_c FROM equipment_reading WHERE equipment_id = $1 ORDER BY measured_at DESC, reading_id DESC LIMIT 1`,
    [b.id],
  );
  const other = await sourceSql(`SELECT region FROM power_equipment WHERE region <> $1 ORDER BY region LIMIT 1`, [d.region]);
  return {
    withNewReading: a.id,
    withUpdatedReading: { equipmentId: b.id, readingId: String(latest[0].reading_id), load: String(latest[0].load_mw), temperature: String(latest[0].temperature_c) },
    inserted: `EXACT-${job.toUpperCase()}`,
    moved: { equipmentId: d.id, from: d.region, to: String(other[0].region) },
  };
}

async function change(t: Targets, job: JobName): Promise<void> {
  await sourceSql(`
    BEGIN;
    INSERT INTO equipment_reading (equipment_id, load_mw, temperature_c, voltage_kv, measured_at)
      SELECT '${t.withNewReading}', 904730.123, 88.5, 10.5, max(measured_at) + interval '1 hour' FROM equipment_reading WHERE equipment_id = '${t.withNewReading}';
    UPDATE equipment_reading SET load_mw = 777.777, temperature_c = 95.5 WHERE reading_id = ${t.withUpdatedReading.readingId};
    INSERT INTO power_equipment (equipment_id, equipment_name, equipment_type, region, voltage_level_kv, rated_capacity_mw, status)
      VALUES ('${t.inserted}', 'exact ${job}', '测试型-${job}', '测试区-${job}', 997, 123.45, '运行');
    UPDATE power_equipment SET region = '${t.moved.to}' WHERE equipment_id = '${t.moved.equipmentId}';
    COMMIT;`);
}

async function undo(t: Targets): Promise<void> {
  await sourceSql(`
    BEGIN;
    DELETE FROM equipment_reading WHERE equipment_id = '${t.withNewReading}' AND load_mw = 904730.123;
    UPDATE equipment_reading SET load_mw = ${t.withUpdatedReading.load}, temperature_c = ${t.withUpdatedReading.temperature}
      WHERE reading_id = ${t.withUpdatedReading.readingId};
    DELETE FROM power_equipment WHERE equipment_id = '${t.inserted}';
    UPDATE power_equipment SET region = '${t.moved.from}' WHERE equipment_id = '${t.moved.equipmentId}';
    COMMIT;`);
}

/** The four changes are in the sink (not just somewhere on the way). */
async function changesInSink(t: Targets): Promise<boolean> {
  const rows = await sinkSql(
    `SELECT
       (SELECT latest_load_mw::text FROM dw.ads_equipment_health WHERE equipment_id = $1) AS a,
       (SELECT latest_load_mw::text FROM dw.ads_equipment_health WHERE equipment_id = $2) AS b,
       (SELECT count(*) FROM dw.ads_equipment_health WHERE equipment_id = $3) AS c,
       (SELECT region FROM dw.ads_equipment_health WHERE equipment_id = $4) AS d`,
    [t.withNewReading, t.withUpdatedReading.equipmentId, t.inserted, t.moved.equipmentId],
  );
  const r = rows[0];
  return r.a === '904730.123' && r.b === '777.777' && Number(r.c) === 1 && r.d === t.moved.to;
}

const JOBS: JobName[] = ['ingest', 'dws', 'ads', 'sink'];

test.each(JOBS.map((job, round) => [job, round] as const))(
  '%s lost after a change reached the sink and before its next checkpoint, the change undone while it is down: the sink equals the contract',
  async (job, round) => {
    const t = await targets(round, job);
    let lostJid = '';
    let changedAt = 0;
    for (let attempt = 1; ; attempt++) {
      const jid = await liveJob(job);
      const checkpoints = await nextCheckpoint(jid);
      changedAt = Date.now();
      await change(t, job);
      const deadline = Date.now() + 60_000;
      while (!(await changesInSink(t))) {
        if (Date.now() > deadline) throw new Error(`the changes did not reach the sink within 60 s (${JSON.stringify(t)})`);
        await new Promise((r) => setTimeout(r, 100));
      }
      if ((await completed(jid)) === checkpoints) {
        await rest().cancel(jid);
        lostJid = jid;
        break;
      }
      // A checkpoint completed after the change: losing the job now would not test the restore hole.
      await undo(t);
      await assertConsistent(spec(), `${job}: undone before another try`, 120_000);
      if (attempt >= 3) throw new Error(`${job}: a checkpoint completed before the change reached the sink, 3 times`);
    }
    // While the job is down, every change is undone in the source.
    const lostAt = Date.now();
    await undo(t);
    const s = await pipeline.waitStatus(
      `${job} resubmitted and running`,
      (st) => allRunning(st) && st.jobs.some((j) => j.job === job && j.jobId !== null && j.jobId !== lostJid),
      300_000,
    );
    // It came back from a point taken before the change: the replay reads the change and its undo.
    const record = s.jobs.find((j) => j.job === job)!;
    expect(record.restoredFrom).not.toBeNull();
    expect(record.restoredFrom!.at).toBeLessThan(changedAt);
    await assertConsistent(spec(), `${job} restored after a change and its undo`, 120_000);
    timings[job] = Date.now() - lostAt;
  },
);
