/**
 * The SGCC warehouse end to end on the real stack (Postgres CDC → Flink → Fluss → JDBC → Postgres):
 * load the sample, deploy through PipelineWorkflow (a real worker), then run change sequences covering every
 * hard case of the contract and assert that every sink table equals sql/contract on the source, row for
 * row, within the contract's tolerances.
 */
import { TERMINAL_JOB_STATES } from '../../src/core/types';
import { FlinkRestClient } from '../../src/flink/rest';
import { loadConfig } from '../../src/config';
import { RunningPipeline, allRunning, runPipeline } from '../support/pipeline';
import { STACK_UP_TIMEOUT_MS, ensureStack } from '../support/stack';
import { assertConsistent, resetWarehouse, sinkSql, sourceSql, testSpec } from '../support/warehouse';

jest.setTimeout(10 * 60_000);

const spec = () => testSpec();
const settleTimes: Record<string, number> = {};
let pipeline: RunningPipeline;

async function expectConsistent(label: string): Promise<void> {
  settleTimes[label] = await assertConsistent(spec(), label, 120_000);
}

beforeAll(async () => {
  await ensureStack();
  await resetWarehouse(spec());
}, STACK_UP_TIMEOUT_MS);

afterAll(async () => {
  process.stderr.write(`[warehouse] settle times (ms): ${JSON.stringify(settleTimes)}\n`);
  await pipeline?.stop();
});

const liveJobs = async () =>
  (await new FlinkRestClient(loadConfig().flink.restUrl).jobsOverview()).filter((j) => j.name.startsWith('gridflow/e2e/') && !TERMINAL_JOB_STATES.has(j.state));

test('deploy from empty: four jobs RUNNING, the sample lands in all six sink tables', async () => {
  pipeline = await runPipeline(spec());
  const s = await pipeline.waitStatus('RUNNING', allRunning);
  expect(s.jobs.map((j) => j.job)).toEqual(['ingest', 'dws', 'ads', 'sink']);
  await expectConsistent('initial sample');
  const [counts] = await sinkSql(
    "SELECT (SELECT count(*) FROM dw.ads_equipment_health)::int AS health, (SELECT count(*) FROM dw.dws_equipment_type_stats)::int AS types, (SELECT count(*) FROM dw.ads_grid_dashboard)::int AS dashboard",
  );
  expect(counts).toEqual({ health: 300, types: 4, dashboard: 1 });
  // A second workflow for the pipeline (the first one lost, as after `deploy --restart-workflow`) submits
  // nothing: it finds every job by name and adopts it.
  const before = (await liveJobs()).map((j) => j.jid).sort();
  await pipeline.handle.terminate('replaced by a new workflow');
  pipeline.handle = await pipeline.start(spec());
  const adopted = await pipeline.waitStatus('RUNNING again', allRunning);
  expect(adopted.jobs.map((j) => j.jobId).sort()).toEqual(before);
  expect((await liveJobs()).map((j) => j.jid).sort()).toEqual(before);
});

test('moves between groups: type, region, voltage, status', async () => {
  await sourceSql(`
    UPDATE power_equipment SET equipment_type = '变压器' WHERE equipment_id = (SELECT min(equipment_id) FROM power_equipment WHERE equipment_type = '发电机');
    UPDATE power_equipment SET region = '西南', voltage_level_kv = 500 WHERE equipment_id = (SELECT min(equipment_id) FROM power_equipment WHERE region = '华北');
    UPDATE power_equipment SET status = '停运' WHERE equipment_id = (SELECT min(equipment_id) FROM power_equipment WHERE status = '运行');
    UPDATE power_equipment SET status = '检修', region = '华中' WHERE equipment_id = (SELECT max(equipment_id) FROM power_equipment WHERE status = '备用');
  `);
  await expectConsistent('moves');
});

test('capacity to and from NULL, and to 0', async () => {
  await sourceSql(`
    UPDATE power_equipment SET rated_capacity_mw = NULL WHERE equipment_id = (SELECT min(equipment_id) FROM power_equipment WHERE rated_capacity_mw IS NOT NULL);
    UPDATE power_equipment SET rated_capacity_mw = 321.45 WHERE equipment_id = (SELECT min(equipment_id) FROM power_equipment WHERE rated_capacity_mw IS NULL AND equipment_id > 'A');
    UPDATE power_equipment SET rated_capacity_mw = 0 WHERE equipment_id = (SELECT max(equipment_id) FROM power_equipment WHERE rated_capacity_mw > 0);
  `);
  await expectConsistent('capacity NULL/0');
});

test('a new group appears, then its last member is deleted: the group row disappears from the sink', async () => {
  await sourceSql(`
    INSERT INTO power_equipment (equipment_id, equipment_name, equipment_type, region, voltage_level_kv, rated_capacity_mw, status)
    VALUES ('ESS-9001', '储能站 9001', '储能设备', '华南', 750, 80.00, '运行');
    INSERT INTO equipment_reading (equipment_id, load_mw, temperature_c, voltage_kv, measured_at) VALUES ('ESS-9001', 95.5, 70.1, 748.2, now());
  `);
  await expectConsistent('new group');
  expect(await sinkSql("SELECT region FROM dw.dws_region_stats WHERE region = '华南'")).toHaveLength(1);
  expect(await sinkSql("SELECT equipment_type FROM dw.dws_equipment_type_stats WHERE equipment_type = '储能设备'")).toHaveLength(1);
  await sourceSql("DELETE FROM power_equipment WHERE equipment_id = 'ESS-9001'");
  await expectConsistent('last member deleted');
  expect(await sinkSql("SELECT region FROM dw.dws_region_stats WHERE region = '华南'")).toHaveLength(0);
  expect(await sinkSql('SELECT 1 FROM dw.dws_voltage_level_stats WHERE voltage_level_kv = 750')).toHaveLength(0);
  expect(await sinkSql("SELECT 1 FROM dw.ads_capacity_planning WHERE region = '华南'")).toHaveLength(0);
});

test('hostile values in the source (quotes, --, backslashes, control characters, 4-byte UTF-8) travel as data', async () => {
  // Keys and group names an injection or an encoding bug would break: each is a new region or type
  // group, so they pass through every layer (CDC, Fluss keys, both aggregates, the JDBC sink).
  const hostile = [
    { id: "Q'1--", name: "O'Brien; DROP TABLE power_equipment; --", type: '变压器', region: "华东' OR '1'='1" },
    { id: 'BS\\2', name: 'back\\slash \\\' end', type: 'type\\n', region: 'tab\tnew\nline\u0001bell\u0007' },
    { id: '𠮷-3', name: '储能 🔋 𠮷野家', type: '储能设备 🔋', region: '𠀀区 -- /* not a comment */' },
  ];
  for (const h of hostile) {
    await sourceSql(
      `INSERT INTO power_equipment (equipment_id, equipment_name, equipment_type, region, voltage_level_kv, rated_capacity_mw, status) VALUES ($1, $2, $3, $4, 220, 12.5, '运行')`,
      [h.id, h.name, h.type, h.region],
    );
    await sourceSql('INSERT INTO equipment_reading (equipment_id, load_mw, temperature_c, voltage_kv, measured_at) VALUES ($1, 11.5, 42.0, 221.0, now())', [h.id]);
  }
  await expectConsistent('hostile values');
  // Byte for byte in the sink, not merely equal after some normalisation on both sides.
  const health = await sinkSql('SELECT equipment_id, equipment_name, region FROM dw.ads_equipment_health WHERE equipment_id = ANY($1) ORDER BY equipment_id', [hostile.map((h) => h.id)]);
  expect(health).toEqual([...hostile].sort((a, b) => (a.id < b.id ? -1 : 1)).map((h) => ({ equipment_id: h.id, equipment_name: h.name, region: h.region })));
  expect(await sinkSql('SELECT region FROM dw.dws_region_stats WHERE region = ANY($1)', [hostile.map((h) => h.region)])).toHaveLength(3);
  await sourceSql('DELETE FROM power_equipment WHERE equipment_id = ANY($1)', [hostile.map((h) => h.id)]);
  await sourceSql('DELETE FROM equipment_reading WHERE equipment_id = ANY($1)', [hostile.map((h) => h.id)]);
  await expectConsistent('hostile values deleted');
});

test('the last member of a group leaves by UPDATE', async () => {
  await sourceSql(`
    INSERT INTO power_equipment (equipment_id, equipment_name, equipment_type, region, voltage_level_kv, rated_capacity_mw, status)
    VALUES ('TMP-0001', '临时设备', '临时类型', '华北', 35, 10.00, '备用');
  `);
  await expectConsistent('temporary group');
  await sourceSql("UPDATE power_equipment SET equipment_type = '配电设备' WHERE equipment_id = 'TMP-0001'");
  await expectConsistent('group left by update');
  expect(await sinkSql("SELECT 1 FROM dw.dws_equipment_type_stats WHERE equipment_type = '临时类型'")).toHaveLength(0);
});

test('latest reading: an older reading arriving later does not win; deleting the latest falls back', async () => {
  const [eq] = await sourceSql(
    'SELECT equipment_id FROM equipment_reading GROUP BY equipment_id HAVING count(*) >= 2 ORDER BY equipment_id LIMIT 1',
  );
  const id = eq.equipment_id as string;
  await sourceSql(
    `INSERT INTO equipment_reading (equipment_id, load_mw, temperature_c, voltage_kv, measured_at)
     SELECT $1::varchar, 999.999, 99.99, 1.0, min(measured_at) - interval '1 day' FROM equipment_reading WHERE equipment_id = $1::varchar`,
    [id],
  );
  await expectConsistent('late older reading');
  const [health] = await sinkSql('SELECT latest_load_mw::text AS load FROM dw.ads_equipment_health WHERE equipment_id = $1', [id]);
  expect(health.load).not.toBe('999.999');
  await sourceSql(
    `DELETE FROM equipment_reading WHERE reading_id = (SELECT reading_id FROM equipment_reading WHERE equipment_id = $1::varchar ORDER BY measured_at DESC, reading_id DESC LIMIT 1)`,
    [id],
  );
  await expectConsistent('latest reading deleted');
});

test('equipment without readings, and readings for equipment that does not exist (yet)', async () => {
  await sourceSql(`
    INSERT INTO power_equipment (equipment_id, equipment_name, equipment_type, region, voltage_level_kv, rated_capacity_mw, status)
    VALUES ('NEW-0001', '新设备 1', '变压器', '东北', 220, 150.00, '运行');
    INSERT INTO equipment_reading (equipment_id, load_mw, temperature_c, voltage_kv, measured_at) VALUES ('GHOST-0001', 10, 40, 10, now());
  `);
  await expectConsistent('no readings / unknown equipment');
  const [row] = await sinkSql("SELECT latest_load_mw, load_ratio, health_score FROM dw.ads_equipment_health WHERE equipment_id = 'NEW-0001'");
  expect(row).toEqual({ latest_load_mw: null, load_ratio: null, health_score: 100 });
  expect(await sinkSql("SELECT 1 FROM dw.ads_equipment_health WHERE equipment_id = 'GHOST-0001'")).toHaveLength(0);
  // The equipment appears after its telemetry: it picks up the reading.
  await sourceSql(`
    INSERT INTO power_equipment (equipment_id, equipment_name, equipment_type, region, voltage_level_kv, rated_capacity_mw, status)
    VALUES ('GHOST-0001', '迟到设备', '配电设备', '西北', 10, 12.50, '运行');
  `);
  await expectConsistent('equipment after its readings');
  const [ghost] = await sinkSql("SELECT latest_load_mw::text AS load FROM dw.ads_equipment_health WHERE equipment_id = 'GHOST-0001'");
  expect(ghost.load).toBe('10.000');
});

test('a burst of mixed changes on both tables settles to the contract', async () => {
  await sourceSql(`
    INSERT INTO equipment_reading (equipment_id, load_mw, temperature_c, voltage_kv, measured_at)
      SELECT equipment_id, (random() * 200)::numeric(12,3), (40 + random() * 50)::numeric(6,2), voltage_level_kv, now() - (random() * interval '2 hours')
      FROM power_equipment, generate_series(1, 3);
    UPDATE power_equipment SET status = CASE status WHEN '运行' THEN '检修' WHEN '检修' THEN '运行' ELSE status END WHERE equipment_id LIKE '%3';
    DELETE FROM equipment_reading WHERE reading_id % 17 = 0;
    DELETE FROM power_equipment WHERE equipment_id LIKE '%77';
  `);
  await expectConsistent('burst');
});

test('all equipment deleted: no dashboard row, every group gone', async () => {
  await sourceSql('DELETE FROM power_equipment');
  await expectConsistent('everything deleted');
  expect(await sinkSql('SELECT 1 FROM dw.ads_grid_dashboard')).toHaveLength(0);
  expect(await sinkSql('SELECT 1 FROM dw.dws_region_stats')).toHaveLength(0);
});

test('no password reaches a log file (connectors print their configuration; the stack masks it)', async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { loadConfig, resolveConnection } = await import('../../src/config');
  const { layout } = await import('../../src/stack/layout');
  const secrets = ['source_cdc', 'sink', 'source_admin'].map((c) => resolveConnection(c).password);
  const logs = layout(loadConfig()).logs;
  const leaks: string[] = [];
  for (const file of fs.readdirSync(logs).filter((f) => fs.statSync(path.join(logs, f)).isFile())) {
    const text = fs.readFileSync(path.join(logs, file), 'utf8');
    for (const s of secrets) if (text.includes(s)) leaks.push(file);
  }
  expect(leaks).toEqual([]);
  // The connectors did log their configuration (so the mask was exercised, not merely unneeded).
  const tm = fs.readdirSync(logs).filter((f) => f.startsWith('taskmanager-') && f.endsWith('.log'));
  expect(tm.some((f) => /database\.password=\*{6}/.test(fs.readFileSync(path.join(logs, f), 'utf8')))).toBe(true);
});
