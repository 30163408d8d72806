/**
 * Telemetry volume on the real stack, driven by PipelineWorkflow with the real activities: a burst far
 * above the old capacity (~400 changes/s) and a hostile mix of deletes, updates and moves around it —
 * the latest reading's slow path (EQUIPMENT_LATEST asks Fluss once deletes empty what it keeps) among
 * them — each ending with the sink equal to the contract; then a backlog, during which the freshness
 * the watch reports must grow with it (and make the pipeline DEGRADED "falling behind"), and shrink
 * again once the backlog has drained. No timed assertion: the backlog is compared with itself.
 */
import { resolveConnection } from '../../src/config';
import type { PipelineStatus } from '../../src/core/state';
import { probeArrivals, sendProbe } from '../../src/postgres/probe';
import { statusQuery } from '../../src/workflows/definitions';
import { RunningPipeline, allRunning, runPipeline } from '../support/pipeline';
import { STACK_UP_TIMEOUT_MS, ensureStack } from '../support/stack';
import { assertConsistent, resetWarehouse, sinkSql, sourceSql, testSpec } from '../support/warehouse';

jest.setTimeout(15 * 60_000);

let pipeline: RunningPipeline;
const spec = () => testSpec({ watch: { interval: '2s', maxFreshness: '8s', checkpointStallAfter: '5min', readinessTimeout: '3min' } as never });
const settle: Record<string, number> = {};

const waitStatus = (what: string, predicate: (s: PipelineStatus) => boolean, timeoutMs?: number) => pipeline.waitStatus(what, predicate, timeoutMs);

async function expectConsistent(label: string): Promise<void> {
  settle[label] = await assertConsistent(spec(), label, 300_000);
}

/** n readings of existing equipment, `per` rows per transaction, "now". */
async function writeReadings(n: number, per = 50_000): Promise<void> {
  for (let done = 0; done < n; done += per) {
    await sourceSql(
      `INSERT INTO equipment_reading (equipment_id, load_mw, temperature_c, voltage_kv, measured_at)
       SELECT ids[1 + (g % array_length(ids, 1))], round((random() * 300)::numeric, 3), round((20 + random() * 75)::numeric, 2), 220, clock_timestamp()
       FROM (SELECT array_agg(equipment_id) AS ids FROM power_equipment) e, generate_series(1, $1::int) g`,
      [Math.min(per, n - done)],
    );
  }
}

/** The latest reading of each of `n` equipment (chosen by `salt`), as SQL. */
const latestOf = (n: number, salt: string) => `SELECT DISTINCT ON (equipment_id) reading_id FROM equipment_reading
  WHERE equipment_id IN (SELECT equipment_id FROM power_equipment ORDER BY md5(equipment_id || '${salt}') LIMIT ${n})
  ORDER BY equipment_id, measured_at DESC, reading_id DESC`;

beforeAll(async () => {
  await ensureStack();
  await resetWarehouse(spec());
  pipeline = await runPipeline(spec());
  await waitStatus('RUNNING', allRunning);
  await expectConsistent('deploy');
}, STACK_UP_TIMEOUT_MS);

afterAll(async () => {
  process.stderr.write(`[throughput] settle times (ms): ${JSON.stringify(settle)}\n`);
  await pipeline?.stop();
});

test('a burst of 200,000 readings in large transactions: the sink equals the contract afterwards', async () => {
  await writeReadings(200_000);
  await expectConsistent('200k burst');
  const [health] = await sinkSql('SELECT count(*)::int AS n, count(latest_load_mw)::int AS with_reading FROM dw.ads_equipment_health');
  expect(health).toEqual({ n: 300, with_reading: 300 });
});

test('deletes of the latest readings one by one (past what EQUIPMENT_LATEST keeps), moves back in time and to other equipment, ties', async () => {
  // Six deletes of each latest, one commit each: after four, the equipment's list is empty and Fluss is asked.
  for (let i = 0; i < 6; i++) await sourceSql(`DELETE FROM equipment_reading WHERE reading_id IN (${latestOf(25, 'a')})`);
  await expectConsistent('latest deleted six times');
  await sourceSql(`UPDATE equipment_reading SET measured_at = measured_at - interval '30 days' WHERE reading_id IN (${latestOf(30, 'b')})`);
  await expectConsistent('latest moved back in time');
  await sourceSql(
    `UPDATE equipment_reading r SET equipment_id = (SELECT equipment_id FROM power_equipment ORDER BY md5(r.reading_id::text) LIMIT 1) WHERE reading_id IN (${latestOf(30, 'c')})`,
  );
  await expectConsistent('latest moved to another equipment');
  await sourceSql(`
    INSERT INTO equipment_reading (equipment_id, load_mw, temperature_c, voltage_kv, measured_at)
      SELECT equipment_id, 70 + g, 60 + g, 1, timestamptz '2031-01-01 00:00:00+00'
      FROM (SELECT equipment_id FROM power_equipment ORDER BY md5(equipment_id || 'f') LIMIT 10) e, generate_series(1, 3) g;
    DELETE FROM equipment_reading WHERE reading_id IN (SELECT max(reading_id) FROM equipment_reading WHERE measured_at = timestamptz '2031-01-01 00:00:00+00' GROUP BY equipment_id);
  `);
  await expectConsistent('ties on measured_at');
});

test('all readings of some equipment deleted (some get one old reading back), equipment deleted with readings left, a mixed transaction', async () => {
  await sourceSql(`
    CREATE TEMP TABLE pick AS SELECT equipment_id FROM power_equipment ORDER BY md5(equipment_id || 'd') LIMIT 10;
    DELETE FROM equipment_reading WHERE equipment_id IN (SELECT equipment_id FROM pick);
    INSERT INTO equipment_reading (equipment_id, load_mw, temperature_c, voltage_kv, measured_at)
      SELECT equipment_id, 5.5, 50, 1, now() - interval '1 year' FROM pick ORDER BY equipment_id LIMIT 5;
  `);
  await expectConsistent('readings emptied, some refilled');
  await sourceSql("DELETE FROM power_equipment WHERE equipment_id IN (SELECT equipment_id FROM power_equipment ORDER BY md5(equipment_id || 'e') LIMIT 5)");
  await expectConsistent('equipment deleted, readings left');
  await sourceSql(`
    BEGIN;
    INSERT INTO equipment_reading (equipment_id, load_mw, temperature_c, voltage_kv, measured_at)
      SELECT ids[1 + (g % array_length(ids, 1))], round((random() * 300)::numeric, 3), round((20 + random() * 80)::numeric, 2), 1, clock_timestamp() - random() * interval '1 day'
      FROM (SELECT array_agg(equipment_id) AS ids FROM power_equipment) e, generate_series(1, 20000) g;
    DELETE FROM equipment_reading WHERE reading_id IN (SELECT reading_id FROM equipment_reading ORDER BY md5(reading_id::text) LIMIT 3000);
    UPDATE equipment_reading SET load_mw = load_mw + 1 WHERE reading_id IN (SELECT reading_id FROM equipment_reading ORDER BY md5(reading_id::text || 'g') LIMIT 1000);
    UPDATE power_equipment SET region = '华南', status = '检修' WHERE equipment_id IN (SELECT equipment_id FROM power_equipment ORDER BY md5(equipment_id || 'm') LIMIT 20);
    COMMIT;
  `);
  await expectConsistent('mixed transaction');
  // Every latest reading deleted five times in one transaction: one bundle, many lookups.
  await sourceSql(`BEGIN; ${Array.from({ length: 5 }, () => `DELETE FROM equipment_reading WHERE reading_id IN (SELECT DISTINCT ON (equipment_id) reading_id FROM equipment_reading ORDER BY equipment_id, measured_at DESC, reading_id DESC);`).join(' ')} COMMIT;`);
  await expectConsistent('every latest deleted five times');
});

test('a backlog: the freshness the watch reports grows with it (DEGRADED "falling behind") and shrinks once it drains', async () => {
  const source = resolveConnection(spec().source.connection);
  const sink = resolveConnection(spec().sink.connection);
  const before = await waitStatus('a freshness under the limit', (s) => s.freshness?.lagMs !== null && s.freshness !== undefined && s.freshness!.lagMs! < 8000);
  const quiet = before.freshness!.lagMs!;

  const written = Date.now();
  const bulk = writeReadings(500_000);
  let worst = 0;
  let degraded: string | null = null;
  let drained = false;
  const watching = (async () => {
    while (!drained) {
      const s = await pipeline.handle.query(statusQuery);
      worst = Math.max(worst, s.freshness?.lagMs ?? 0);
      if (s.state === 'DEGRADED' && /falling behind/.test(s.reason ?? '')) degraded ??= s.reason;
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  await bulk;
  // A marker after the bulk: when it comes out, the backlog has drained. Its travel time is the backlog.
  const marker = await sendProbe(source, null, spec().name, spec().source.schema);
  let out: number | null = null;
  while (out === null) {
    const a = await probeArrivals(sink, spec().name, marker.value);
    if (a.health !== null && a.capacity !== null && a.dashboard !== null) out = Math.max(a.health, a.capacity, a.dashboard);
    else await new Promise((r) => setTimeout(r, 250));
  }
  const backlogMs = out - written;
  // Give the watch a round or two to read the probes that came out with the backlog.
  await new Promise((r) => setTimeout(r, 6000));
  drained = true;
  await watching;
  process.stderr.write(`[throughput] backlog ${backlogMs} ms, worst freshness reported ${worst} ms (quiet: ${quiet} ms), ${degraded ?? 'never DEGRADED'}\n`);

  // What was reported grew with the backlog: at least a good part of it (the watch probes every 2 s and
  // reads a probe's lateness before it comes out), and far above the quiet figure.
  expect(worst).toBeGreaterThan(quiet);
  expect(worst).toBeGreaterThanOrEqual(Math.min(backlogMs * 0.4, backlogMs - 4000));
  if (backlogMs > 12_000) expect(degraded).toMatch(/^falling behind: .*\(limit 8\.0 s\)/);
  // Drained: the reported freshness is back under the limit, and the pipeline RUNNING again.
  const after = await waitStatus('RUNNING and fresh again', (s) => s.state === 'RUNNING' && (s.freshness?.lagMs ?? Infinity) < 8000, 120_000);
  expect(after.reason).toBeNull();
  await expectConsistent('after the backlog');
});
