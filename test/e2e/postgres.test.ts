/**
 * src/postgres against real PostgreSQL: the test stack's source and sink (ports +20000), plus a private
 * throwaway server with wal_level=replica. Everything this file creates is its own: a scratch database
 * gf_t_<random> on each stack server and pipeline names t_<random>, all dropped in afterAll, so the
 * deployed pipeline (sgcc_source / sgcc_dw, its slots) is never touched — except that schema.sql, which is
 * idempotent, is applied to sgcc_source to show preflight passes there.
 */
import { randomBytes } from 'node:crypto';
import { Client, ClientConfig } from 'pg';
import { PgConnection, resolveConnection } from '../../src/config';
import { PostgresError } from '../../src/postgres/errors';
import { query, withClient, withDatabase } from '../../src/postgres/connection';
import { DEFAULT_LOAD_MIX } from '../../src/load/planner';
import { LoadProgress, runLoad } from '../../src/load/runner';
import { WAREHOUSE_TABLES, WAREHOUSE_TABLE_NAMES } from '../../src/postgres/warehouse-tables';
import { compareAll, readContract } from '../../src/postgres/reconcile';
import { summarize } from '../../src/postgres/compare';
import {
  listSavepoints,
  listVerificationRuns,
  listEvents,
  applySinkSchema,
  writeEvent,
  writeSavepoint,
  writeVerificationRun,
} from '../../src/postgres/sink';
import { CAPTURED_TABLES, SourceStateError, artifactName } from '../../src/postgres/source/names';
import { applySourceSchema, loadSampleData } from '../../src/postgres/source/schema';
import { checkReplication, inspectReplication } from '../../src/postgres/source/replication';
import { dropSourceArtifacts, prepareSource } from '../../src/postgres/source/prepare';
import { sourcePreflight } from '../../src/postgres/source/preflight';
import { STACK_UP_TIMEOUT_MS, ensureStack } from '../support/stack';
import { ThrowawayPostgres, startThrowawayPostgres } from '../support/throwaway-postgres';

jest.setTimeout(3 * 60_000);

const suffix = randomBytes(4).toString('hex');
const scratchDb = `gf_t_${suffix}`;
const pipeline = `t_${suffix}`;

let sourceAdmin: PgConnection;
let cdc: PgConnection;
let sinkAdmin: PgConnection;
let scratchSource: PgConnection;
let scratchSink: PgConnection;
let throwaway: ThrowawayPostgres | undefined;

const sql = <T extends object = Record<string, unknown>>(conn: PgConnection, text: string, params: unknown[] = []) =>
  withClient(conn, async (c) => (await c.query<T & Record<string, unknown>>(text, params)).rows as T[]);

/** Everything preflight could change, as one comparable value. */
async function sourceState(conn: PgConnection) {
  return {
    tables: await sql(conn, `SELECT relname, relreplident, relacl::text FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY 1`),
    database: await sql(conn, 'SELECT datacl::text FROM pg_database WHERE datname = current_database()'),
    schema: await sql(conn, `SELECT nspacl::text FROM pg_namespace WHERE nspname = 'public'`),
    slots: await sql(conn, 'SELECT slot_name, restart_lsn::text FROM pg_replication_slots ORDER BY 1'),
    publications: await sql(conn, 'SELECT pubname FROM pg_publication ORDER BY 1'),
    roles: await sql(conn, 'SELECT rolname, rolreplication, rolcanlogin FROM pg_roles ORDER BY 1'),
    settings: await sql(conn, `SELECT name, setting FROM pg_settings WHERE source NOT IN ('default', 'override') ORDER BY 1`),
  };
}

beforeAll(async () => {
  await ensureStack();
  sourceAdmin = resolveConnection('source_admin');
  cdc = resolveConnection('source_cdc');
  sinkAdmin = resolveConnection('sink_admin');
  const sink = resolveConnection('sink');
  await sql(sourceAdmin, `CREATE DATABASE ${scratchDb}`);
  await sql(sinkAdmin, `CREATE DATABASE ${scratchDb} OWNER ${sink.user}`);
  scratchSource = withDatabase(sourceAdmin, scratchDb);
  scratchSink = withDatabase(sink, scratchDb);
  await applySourceSchema(scratchSource);
  await loadSampleData(scratchSource);
}, STACK_UP_TIMEOUT_MS);

afterAll(async () => {
  await throwaway?.stop();
  if (scratchSource) {
    // A database with replication slots cannot be dropped: remove ours first (a test may have failed
    // midway). A logical slot can only be dropped from its own database.
    await sql(sourceAdmin, 'SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active', [scratchDb]);
    await new Promise((r) => setTimeout(r, 500));
    await sql(scratchSource, 'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1', [scratchDb]);
  }
  if (sourceAdmin) await sql(sourceAdmin, `DROP DATABASE IF EXISTS ${scratchDb} WITH (FORCE)`);
  if (sinkAdmin) await sql(sinkAdmin, `DROP DATABASE IF EXISTS ${scratchDb} WITH (FORCE)`);
});

const captured = { schema: 'public', tables: CAPTURED_TABLES, slotsNeeded: 2, sendersNeeded: 2 };

test('schema.sql and sample.sql are idempotent; a schema already in place is not re-applied (no table lock)', async () => {
  const counts = () => sql(scratchSource, 'SELECT (SELECT count(*) FROM power_equipment)::int AS e, (SELECT count(*) FROM equipment_reading)::int AS r');
  expect(await counts()).toEqual([{ e: 300, r: 873 }]);
  expect(await applySourceSchema(scratchSource)).toBe(false);
  await loadSampleData(scratchSource);
  expect(await counts()).toEqual([{ e: 300, r: 873 }]);
  await sql(scratchSource, 'ALTER TABLE equipment_reading REPLICA IDENTITY DEFAULT');
  expect(await applySourceSchema(scratchSource)).toBe(true);
  expect(await sql(scratchSource, `SELECT relreplident FROM pg_class WHERE oid = 'equipment_reading'::regclass`)).toEqual([{ relreplident: 'f' }]);
});

describe('sourcePreflight', () => {
  test("passes on the stack's source (after the idempotent schema.sql), and counts free slots", async () => {
    await applySourceSchema(sourceAdmin);
    const result = await sourcePreflight(sourceAdmin, { ...captured, cdcRole: cdc.user });
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.facts).toMatchObject({ walLevel: 'logical', database: 'sgcc_source', maxReplicationSlots: 20 });

    const greedy = await sourcePreflight(sourceAdmin, { ...captured, cdcRole: cdc.user, slotsNeeded: 1000 });
    expect(greedy.problems.map((p) => p.check)).toEqual(['replication-slots']);
    expect(greedy.problems[0].message).toMatch(/^Only \d+ replication slots? can be used \(max_replication_slots = 20, \d+ used by others\) but the pipeline needs 1000: raise max_replication_slots/);
  });

  test('in a scratch database: reports what prepareSource fixes, and changes nothing', async () => {
    await sql(scratchSource, 'ALTER TABLE equipment_reading REPLICA IDENTITY DEFAULT');
    const before = await sourceState(scratchSource);
    const result = await sourcePreflight(scratchSource, { ...captured, cdcRole: cdc.user, pipeline });
    expect(result.problems.map((p) => `${p.check} ${p.fixedByPrepare}`)).toEqual([
      'cdc-select true', // default privileges for the CDC role exist in sgcc_source only
      'replica-identity true',
      'cdc-select true',
    ]);
    expect(result.problems[1].message).toContain('ALTER TABLE public.equipment_reading REPLICA IDENTITY FULL');
    expect(result).toMatchObject({ ok: false, readyAfterPrepare: true });
    expect(await sourceState(scratchSource)).toEqual(before);
  });

  test('on a server with wal_level=replica: names wal_level and the fix, changes nothing; prepareSource refuses', async () => {
    throwaway = await startThrowawayPostgres({ wal_level: 'replica' });
    const admin = throwaway.admin;
    await sql(admin, `CREATE ROLE ${cdc.user} LOGIN REPLICATION PASSWORD 'x-${suffix}'`);
    await applySourceSchema(admin);
    await sql(admin, `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${cdc.user}`);
    const before = await sourceState(admin);

    const result = await sourcePreflight(admin, { ...captured, cdcRole: cdc.user });
    expect(result.facts.walLevel).toBe('replica');
    expect(result.problems).toEqual([
      {
        check: 'wal-level',
        message: "wal_level is 'replica' but CDC needs 'logical': run ALTER SYSTEM SET wal_level = logical as a superuser, then restart PostgreSQL.",
        fixedByPrepare: false,
      },
    ]);
    expect(result.readyAfterPrepare).toBe(false);
    expect(await sourceState(admin)).toEqual(before);

    const refusal = prepareSource(admin, { schema: 'public', tables: CAPTURED_TABLES, pipeline, cdcRole: cdc.user });
    await expect(refusal).rejects.toThrow(SourceStateError);
    await expect(refusal).rejects.toThrow(/nothing was changed: wal_level is 'replica'/);
    expect(await sourceState(admin)).toEqual(before);
  });
});

describe('prepareSource, inspectReplication, checkReplication, dropSourceArtifacts', () => {
  const input = () => ({ schema: 'public', tables: CAPTURED_TABLES, pipeline, cdcRole: cdc.user });
  const names = CAPTURED_TABLES.map((t) => artifactName(pipeline, t));
  const expected = { pipeline, schema: 'public', tables: CAPTURED_TABLES, expectActive: false, maxLagBytes: 64 * 1024 * 1024 };
  const slotIdentity = (o: Awaited<ReturnType<typeof inspectReplication>>) =>
    o.slots.map((s) => ({ name: s.name, plugin: s.plugin, database: s.database, restartLsn: s.restartLsn, confirmed: s.confirmedFlushLsn }));

  test('twice: the first run creates and fixes, the second changes nothing', async () => {
    await sql(scratchSource, 'ALTER TABLE equipment_reading REPLICA IDENTITY DEFAULT');
    await sql(scratchSource, `REVOKE SELECT ON power_equipment FROM ${cdc.user}`);
    const first = await prepareSource(scratchSource, input());
    expect(first.publications.map((p) => p.status)).toEqual(['created', 'created']);
    expect(first.slots.map((s) => [s.name, s.status])).toEqual(names.map((n) => [n, 'created']));
    expect(first.actions).toEqual(
      expect.arrayContaining([
        'Set REPLICA IDENTITY FULL on public.equipment_reading (was DEFAULT).',
        `Granted SELECT on public.power_equipment to ${cdc.user}.`,
        `Created publication ${names[0]} for public.power_equipment.`,
        expect.stringMatching(new RegExp(`^Created logical replication slot ${names[1]} \\(pgoutput\\) at \\d+/[0-9A-F]+\\.$`)),
      ]),
    );
    const afterFirst = await inspectReplication(scratchSource, { pipeline });

    const second = await prepareSource(scratchSource, input());
    expect(second.actions).toEqual([]);
    expect(second.publications.map((p) => p.status)).toEqual(['unchanged', 'unchanged']);
    expect(second.slots.map((s) => s.status)).toEqual(['existing', 'existing']);
    const afterSecond = await inspectReplication(scratchSource, { pipeline });
    expect(slotIdentity(afterSecond)).toEqual(slotIdentity(afterFirst));
    expect(afterSecond.publications).toEqual(afterFirst.publications);
    expect(afterSecond.slots.map((s) => s.plugin)).toEqual(['pgoutput', 'pgoutput']);
    expect(afterSecond.publications.map((p) => p.tables)).toEqual(CAPTURED_TABLES.map((t) => [`public.${t}`]));
    expect(afterSecond.slots.every((s) => typeof s.lagBytes === 'number' && typeof s.retainedBytes === 'number')).toBe(true);

    expect(checkReplication(afterSecond, expected)).toEqual([]);
    // nobody reads the slots yet: inactive once the job should run
    expect(checkReplication(afterSecond, { ...expected, expectActive: true }).map((p) => p.kind)).toEqual(['slot-inactive', 'slot-inactive']);
    // and preflight now counts the pipeline's own slots as available
    expect((await sourcePreflight(scratchSource, { ...captured, cdcRole: cdc.user, pipeline })).ok).toBe(true);
  });

  test('a publication holding other tables, a row filter or fewer actions is corrected and reported; slots stay', async () => {
    const before = await inspectReplication(scratchSource, { pipeline });
    await sql(scratchSource, `ALTER PUBLICATION ${names[0]} ADD TABLE equipment_reading`);
    await sql(scratchSource, `ALTER PUBLICATION ${names[0]} SET (publish = 'insert')`);
    await sql(scratchSource, `ALTER PUBLICATION ${names[1]} SET TABLE equipment_reading WHERE (load_mw > 0)`);
    const broken = await inspectReplication(scratchSource, { pipeline });
    expect(checkReplication(broken, expected).map((p) => [p.kind, p.name])).toEqual([
      ['publication-extra-tables', names[0]],
      ['publication-actions', names[0]],
      ['publication-filter', names[1]],
    ]);

    const fixed = await prepareSource(scratchSource, input());
    expect(fixed.publications.map((p) => p.status)).toEqual(['corrected', 'corrected']);
    expect(fixed.actions).toEqual([
      `Corrected publication ${names[0]} to exactly public.power_equipment (it held public.equipment_reading, public.power_equipment; did not publish every insert, update and delete).`,
      `Corrected publication ${names[1]} to exactly public.equipment_reading (it held public.equipment_reading; a row filter on public.equipment_reading).`,
    ]);
    const after = await inspectReplication(scratchSource, { pipeline });
    expect(checkReplication(after, expected)).toEqual([]);
    expect(after.publications.map((p) => p.tables)).toEqual(CAPTURED_TABLES.map((t) => [`public.${t}`]));
    expect(slotIdentity(after)).toEqual(slotIdentity(before));
  });

  test('dropSourceArtifacts refuses while a slot is read, then drops; idempotent', async () => {
    // Hold one slot active the way the CDC connector does: a replication connection streaming it.
    const replication = new Client({
      host: cdc.host,
      port: cdc.port,
      user: cdc.user,
      password: cdc.password,
      database: scratchDb,
      replication: 'database',
    } as ClientConfig);
    replication.on('error', () => undefined);
    await replication.connect();
    const streaming = replication
      .query(`START_REPLICATION SLOT ${names[1]} LOGICAL 0/0 (proto_version '1', publication_names '${names[1]}')`)
      .catch((err: Error) => err);
    try {
      let active = false;
      for (let i = 0; i < 100 && !active; i++) {
        active = (await inspectReplication(scratchSource, { pipeline })).slots.find((s) => s.name === names[1])!.active;
        if (!active) await new Promise((r) => setTimeout(r, 100));
      }
      expect(active).toBe(true);
      const observed = await inspectReplication(scratchSource, { pipeline });
      expect(checkReplication(observed, { ...expected, expectActive: true }).map((p) => p.name)).toEqual([names[0]]);

      const refusal = dropSourceArtifacts(scratchSource, { pipeline });
      await expect(refusal).rejects.toMatchObject({ name: 'SourceStateError', kind: 'slot-active', transient: false });
      await expect(refusal).rejects.toThrow(new RegExp(`replication slot ${names[1]} \\(read by PID \\d+\\) is active, a job is still reading it; stop the pipeline's ingest job first \\(nothing was dropped\\)`));
      const still = await inspectReplication(scratchSource, { pipeline });
      expect(still.slots.map((s) => s.name)).toEqual(names);
      expect(still.publications.map((p) => p.name)).toEqual(names);
    } finally {
      await replication.end().catch(() => undefined);
      await streaming;
    }

    let inactive = false;
    for (let i = 0; i < 100 && !inactive; i++) {
      inactive = (await inspectReplication(scratchSource, { pipeline })).slots.every((s) => !s.active);
      if (!inactive) await new Promise((r) => setTimeout(r, 100));
    }
    expect(inactive).toBe(true);
    expect(await dropSourceArtifacts(scratchSource, { pipeline })).toEqual({ droppedSlots: names, droppedPublications: names });
    const gone = await inspectReplication(scratchSource, { pipeline });
    expect(gone.slots).toEqual([]);
    expect(gone.publications).toEqual([]);
    expect(checkReplication(gone, expected).map((p) => p.kind)).toEqual([
      'slot-missing', 'publication-missing', 'slot-missing', 'publication-missing',
    ]);
    expect(await dropSourceArtifacts(scratchSource, { pipeline })).toEqual({ droppedSlots: [], droppedPublications: [] });
  });

  test('the slot and publication of a table an earlier version captured are dropped by prepare, not left pinning WAL', async () => {
    const retired = artifactName(pipeline, 'gridflow_probe');
    await sql(scratchSource, 'CREATE TABLE IF NOT EXISTS gridflow_probe (probe_id text PRIMARY KEY, sent_at timestamptz NOT NULL DEFAULT now())');
    await sql(scratchSource, `CREATE PUBLICATION ${retired} FOR TABLE gridflow_probe`);
    await sql(scratchSource, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [retired]);
    const result = await prepareSource(scratchSource, input());
    expect(result.actions).toEqual(
      expect.arrayContaining([
        `Dropped replication slot ${retired}: this version no longer captures its table.`,
        `Dropped publication ${retired}: this version no longer captures its table.`,
      ]),
    );
    expect(await sql(scratchSource, 'SELECT slot_name FROM pg_replication_slots WHERE slot_name = $1', [retired])).toEqual([]);
    expect(await sql(scratchSource, 'SELECT pubname FROM pg_publication WHERE pubname = $1', [retired])).toEqual([]);
    // The current slots are untouched, and dropping everything leaves nothing.
    expect(result.slots.map((s) => s.status)).toEqual(['created', 'created']);
    await dropSourceArtifacts(scratchSource, { pipeline });
  });
});

describe('runLoad', () => {
  test('writes exactly what it reports, every kind of change included', async () => {
    // An audit of every row change, classified the way the load generator counts them.
    await sql(
      scratchSource,
      `CREATE TABLE load_audit (tbl text, op text, what text, unknown boolean, late boolean);
       CREATE FUNCTION audit_reading() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'INSERT' THEN
           INSERT INTO load_audit VALUES ('reading', 'INSERT', NULL,
             NOT EXISTS (SELECT 1 FROM power_equipment WHERE equipment_id = NEW.equipment_id),
             NEW.measured_at < (SELECT max(measured_at) FROM equipment_reading WHERE equipment_id = NEW.equipment_id));
           RETURN NEW;
         END IF;
         INSERT INTO load_audit VALUES ('reading', TG_OP, NULL, NULL, NULL);
         RETURN OLD;
       END $$;
       CREATE FUNCTION audit_equipment() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO load_audit VALUES ('equipment', TG_OP, CASE WHEN TG_OP = 'UPDATE' THEN concat_ws(',',
           CASE WHEN NEW.equipment_type <> OLD.equipment_type THEN 'type' END,
           CASE WHEN NEW.region <> OLD.region THEN 'region' END,
           CASE WHEN NEW.voltage_level_kv <> OLD.voltage_level_kv THEN 'voltage' END,
           CASE WHEN NEW.status <> OLD.status THEN 'status' END,
           CASE WHEN OLD.rated_capacity_mw IS NOT NULL AND NEW.rated_capacity_mw IS NULL THEN 'capacityToNull' END,
           CASE WHEN OLD.rated_capacity_mw IS NULL AND NEW.rated_capacity_mw IS NOT NULL THEN 'capacityFromNull' END,
           CASE WHEN NEW.rated_capacity_mw <> OLD.rated_capacity_mw THEN 'capacity' END,
           CASE WHEN NEW.equipment_name <> OLD.equipment_name THEN 'name' END) END, NULL, NULL);
         RETURN NULL;
       END $$;
       -- BEFORE: sees the rows inserted earlier by the same multi-row INSERT, not this one
       CREATE TRIGGER audit BEFORE INSERT OR DELETE ON equipment_reading FOR EACH ROW EXECUTE FUNCTION audit_reading();
       CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON power_equipment FOR EACH ROW EXECUTE FUNCTION audit_equipment();`,
    );
    const progress: LoadProgress[] = [];
    const t0 = Date.now();
    const result = await runLoad(scratchSource, { ratePerSecond: 400, durationSeconds: 3, seed: 42, onProgress: (p) => progress.push(p) });
    const elapsed = Date.now() - t0;
    await sql(scratchSource, 'DROP TRIGGER audit ON equipment_reading; DROP TRIGGER audit ON power_equipment');

    // paced: all 1200 operations, over about three seconds
    expect(result.operations).toBe(1200);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(2900);
    expect(elapsed).toBeLessThan(15_000);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[progress.length - 1].done).toBe(1200);

    const audit = await sql<{ tbl: string; op: string; what: string | null; unknown: boolean | null; late: boolean | null; n: string }>(
      scratchSource,
      'SELECT tbl, op, what, unknown, late, count(*)::text AS n FROM load_audit GROUP BY 1, 2, 3, 4, 5',
    );
    const count = (f: (r: (typeof audit)[number]) => boolean) => audit.filter(f).reduce((s, r) => s + Number(r.n), 0);
    const c = result.counts;
    expect(count((r) => r.tbl === 'reading' && r.op === 'INSERT')).toBe(c.readingInsert + c.lateReading + c.unknownReading);
    expect(count((r) => r.tbl === 'reading' && r.op === 'INSERT' && r.unknown === true)).toBeGreaterThanOrEqual(c.unknownReading);
    expect(count((r) => r.tbl === 'reading' && r.op === 'INSERT' && r.late === true)).toBe(c.lateReading);
    expect(count((r) => r.tbl === 'reading' && r.op === 'DELETE')).toBe(c.readingDelete);
    expect(count((r) => r.tbl === 'equipment' && r.op === 'INSERT')).toBe(c.equipmentInsert);
    expect(count((r) => r.tbl === 'equipment' && r.op === 'DELETE')).toBe(c.equipmentDelete);
    expect(count((r) => r.tbl === 'equipment' && r.op === 'UPDATE')).toBe(c.equipmentUpdate);
    for (const [kind, n] of Object.entries(result.updates)) {
      expect([kind, count((r) => r.op === 'UPDATE' && r.what === kind)]).toEqual([kind, n]);
    }
    // the mix is roughly DEFAULT_LOAD_MIX, and every skipped count is zero on a database nobody else writes
    expect(c.readingInsert / result.operations).toBeGreaterThan(DEFAULT_LOAD_MIX.readingInsert - 0.06);
    for (const kind of ['lateReading', 'unknownReading', 'equipmentUpdate', 'equipmentInsert'] as const) expect(c[kind]).toBeGreaterThan(0);
    expect(Object.values(result.skipped).every((n) => n === 0)).toBe(true);
  });
});

describe('reconcile', () => {
  /** Write rows into the sink's dw tables, through the same column list the reader uses. */
  async function writeSink(rows: Awaited<ReturnType<typeof readContract>>) {
    await withClient(scratchSink, async (client) => {
      for (const table of WAREHOUSE_TABLE_NAMES) {
        const cols = WAREHOUSE_TABLES[table].columns.map(([c]) => c);
        await client.query(`DELETE FROM dw.${table}`);
        for (const row of rows[table]) {
          await client.query(
            `INSERT INTO dw.${table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
            cols.map((c) => row[c]),
          );
        }
      }
    });
  }

  test('a sink schema of its own per pipeline; a PostgreSQL keyword is refused with the reason', async () => {
    await applySinkSchema(scratchSink, 'dw_other');
    const tables = await withClient(scratchSink, (c) => query<{ t: string }>(c, 'list', "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'dw_other' ORDER BY 1"));
    expect(tables.rows.map((r) => r.t)).toEqual([...WAREHOUSE_TABLE_NAMES].sort());
    await expect(applySinkSchema(scratchSink, 'order')).rejects.toThrow(/sink\.schema order is a PostgreSQL keyword \(reserved\).*choose another name/);
  });

  test('a sink filled from the contract is consistent; exactly the corrupted rows are found, within tolerance ones are not', async () => {
    await applySinkSchema(scratchSink, 'dw');
    await applySinkSchema(scratchSink, 'dw'); // idempotent
    const contract = await readContract(scratchSource);
    for (const t of WAREHOUSE_TABLE_NAMES) expect(contract[t].length).toBeGreaterThan(0);
    await writeSink(contract);
    const clean = await compareAll(scratchSource, scratchSink);
    expect(summarize(clean)).toBe(WAREHOUSE_TABLE_NAMES.map((t) => `${t}: ok (${contract[t].length} rows)`).join('\n'));

    const health = contract.ads_equipment_health.filter((r) => r.load_ratio !== null && r.latest_measured_at !== null);
    const [a, b, c, d, e] = health.map((r) => r.equipment_id as string);
    const region = contract.dws_region_stats[0].region as string;
    const [type1, type2] = contract.dws_equipment_type_stats.filter((r) => r.avg_capacity_mw !== null).map((r) => r.equipment_type as string);
    const planning = contract.ads_capacity_planning[0].region as string;
    await sql(
      scratchSink,
      `UPDATE dw.ads_equipment_health SET load_ratio = load_ratio + 0.0002 WHERE equipment_id = '${a}';
       UPDATE dw.ads_equipment_health SET load_ratio = load_ratio + 0.0001 WHERE equipment_id = '${b}';
       UPDATE dw.ads_equipment_health SET latest_measured_at = latest_measured_at + interval '2 milliseconds' WHERE equipment_id = '${c}';
       UPDATE dw.ads_equipment_health SET latest_measured_at = latest_measured_at + interval '900 microseconds' WHERE equipment_id = '${d}';
       UPDATE dw.ads_equipment_health SET rated_capacity_mw = NULL WHERE equipment_id = '${e}';
       DELETE FROM dw.dws_region_stats WHERE region = '${region}';
       INSERT INTO dw.dws_voltage_level_stats (voltage_level_kv, equipment_count, total_capacity_mw, avg_capacity_mw) VALUES (99999, 1, 1, 1);
       UPDATE dw.dws_equipment_type_stats SET avg_capacity_mw = avg_capacity_mw + 0.01 WHERE equipment_type = '${type1}';
       UPDATE dw.dws_equipment_type_stats SET total_capacity_mw = total_capacity_mw + 0.02 WHERE equipment_type = '${type2}';
       UPDATE dw.ads_capacity_planning SET overload_alert = NOT overload_alert WHERE region = '${planning}';
       UPDATE dw.ads_grid_dashboard SET alarm_count = alarm_count + 1;`,
    );
    const result = await compareAll(scratchSource, scratchSink);
    expect(result.ok).toBe(false);
    const t = Object.fromEntries(result.tables.map((x) => [x.table, x]));

    expect(t.ads_equipment_health.ok).toBe(false);
    expect(t.ads_equipment_health.missing.count + t.ads_equipment_health.extra.count).toBe(0);
    expect(t.ads_equipment_health.different.count).toBe(3);
    expect(t.ads_equipment_health.different.columns).toEqual({ load_ratio: 1, latest_measured_at: 1, rated_capacity_mw: 1 });
    expect(new Set(t.ads_equipment_health.different.examples.map((x) => x.key.equipment_id))).toEqual(new Set([a, c, e]));
    expect(t.ads_equipment_health.different.examples.find((x) => x.column === 'rated_capacity_mw')).toMatchObject({ key: { equipment_id: e }, actual: null });

    expect(t.dws_region_stats).toMatchObject({ ok: false, missing: { count: 1, examples: [{ key: { region } }] }, extra: { count: 0 }, different: { count: 0 } });
    expect(t.dws_voltage_level_stats).toMatchObject({ ok: false, missing: { count: 0 }, extra: { count: 1, examples: [{ key: { voltage_level_kv: 99999 } }] }, different: { count: 0 } });
    expect(t.dws_equipment_type_stats.different).toMatchObject({ count: 1, columns: { total_capacity_mw: 1 }, examples: [{ key: { equipment_type: type2 }, column: 'total_capacity_mw' }] });
    expect(t.ads_capacity_planning.different).toMatchObject({ count: 1, examples: [{ key: { region: planning }, column: 'overload_alert' }] });
    expect(t.ads_grid_dashboard.different).toMatchObject({ count: 1, examples: [{ key: { dashboard_id: 'grid' }, column: 'alarm_count' }] });
  });
});

describe('sink records', () => {
  test('each write is idempotent under retry and reads back', async () => {
    await applySinkSchema(scratchSink, 'dw');
    const at = '2026-11-26T12:00:00.123Z';
    const e1 = await writeEvent(scratchSink, { pipeline, kind: 'deploy', message: 'deployed version 2', at });
    const e2 = await writeEvent(scratchSink, { pipeline, kind: 'deploy', message: 'deployed version 2', at: new Date(at) });
    expect(e1.inserted).toBe(true);
    expect(e2).toEqual({ id: e1.id, inserted: false });
    await writeEvent(scratchSink, { pipeline, kind: 'heal', message: 'resubmitted ingest', at: '2026-11-26T12:01:00Z' });
    expect((await listEvents(scratchSink, pipeline)).map((e) => e.kind)).toEqual(['heal', 'deploy']);

    const sp = { pipeline, job: 'ingest', path: 'file:///tmp/sp/savepoint-1', kind: 'savepoint' as const, takenAt: '2026-11-26T12:00:00Z' };
    const s1 = await writeSavepoint(scratchSink, sp);
    expect(await writeSavepoint(scratchSink, sp)).toEqual({ id: s1.id, inserted: false });
    await writeSavepoint(scratchSink, { ...sp, path: 'file:///tmp/sp/savepoint-2', takenAt: '2026-11-26T12:30:00Z', kind: 'stop-with-savepoint' });
    await writeSavepoint(scratchSink, { ...sp, job: 'sink', path: 'file:///tmp/sp/savepoint-3' });
    const ingest = await listSavepoints(scratchSink, pipeline, { job: 'ingest' });
    expect(ingest.map((s) => [s.path, s.kind])).toEqual([
      ['file:///tmp/sp/savepoint-2', 'stop-with-savepoint'],
      ['file:///tmp/sp/savepoint-1', 'savepoint'],
    ]);
    expect(await listSavepoints(scratchSink, pipeline)).toHaveLength(3);
    // A repeat fills in what the first write lacked (the positions read once the job had stopped), never overwrites.
    const stop = { ...sp, path: 'file:///tmp/sp/savepoint-2', kind: 'stop-with-savepoint' as const };
    await writeSavepoint(scratchSink, { ...stop, fingerprint: 'f1', sourcePositions: { gridflow_x_power_equipment: '0/16B3748' } });
    await writeSavepoint(scratchSink, { ...stop, fingerprint: 'f2', sourcePositions: { gridflow_x_power_equipment: '0/FFFFFFF' } });
    expect((await listSavepoints(scratchSink, pipeline, { job: 'ingest', limit: 1 }))[0]).toMatchObject({
      fingerprint: 'f1',
      sourcePositions: { gridflow_x_power_equipment: '0/16B3748' },
    });
    await expect(writeSavepoint(scratchSink, { ...stop, sourcePositions: { slot: 'not an lsn' } })).rejects.toThrow(/LSN/);

    const run = { id: `verify-${suffix}-1`, pipeline, startedAt: '2026-11-26T12:00:00Z' };
    expect(await writeVerificationRun(scratchSink, run)).toBe(run.id);
    await writeVerificationRun(scratchSink, { ...run, finishedAt: '2026-11-26T12:00:05Z', ok: false, freshnessMs: 812.5, details: { tables: 6, failed: ['ads_grid_dashboard'] } });
    await writeVerificationRun(scratchSink, run); // a late retry of "started" erases nothing
    await writeVerificationRun(scratchSink, { id: `verify-${suffix}-2`, pipeline, startedAt: '2026-11-26T12:10:00Z' });
    const runs = await listVerificationRuns(scratchSink, pipeline, 5);
    expect(runs.map((r) => r.id)).toEqual([`verify-${suffix}-2`, run.id]);
    expect(runs[1]).toMatchObject({ ok: false, freshnessMs: 812.5, details: { tables: 6, failed: ['ads_grid_dashboard'] } });
    expect(runs[1].finishedAt).toMatch(/^2026-11-26 12:00:05/);
    expect(runs[0]).toMatchObject({ ok: null, finishedAt: null, details: {} });
    expect(await listVerificationRuns(scratchSink, pipeline, 1)).toHaveLength(1);
    await expect(writeVerificationRun(scratchSink, { ...run, pipeline: 'other' })).rejects.toThrow(/already exists for another pipeline/);
    expect(await sql(scratchSink, 'SELECT count(*)::int AS n FROM gridflow.verification_runs')).toEqual([{ n: 2 }]);

    // Retention: a finished run prunes the pipeline's runs older than 30 days (and only those).
    const old = { id: `verify-${suffix}-old`, pipeline, startedAt: new Date(Date.now() - 31 * 86_400_000).toISOString() };
    await writeVerificationRun(scratchSink, old);
    await writeVerificationRun(scratchSink, { id: `verify-${suffix}-3`, pipeline, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), ok: true });
    expect((await listVerificationRuns(scratchSink, pipeline, 10)).map((r) => r.id).sort()).toEqual(
      [`verify-${suffix}-1`, `verify-${suffix}-2`, `verify-${suffix}-3`].sort(),
    );
  });
});

describe('errors from a real server', () => {
  test('a missing table is undefined-table naming it', async () => {
    const err = await withClient(scratchSource, (c) => query(c, 'read dw.nowhere', 'SELECT * FROM nowhere')).catch((x) => x);
    expect(err).toBeInstanceOf(PostgresError);
    expect(err).toMatchObject({ code: '42P01', kind: 'undefined-table', transient: false });
    expect(err.message).toContain('relation "nowhere" does not exist');
    expect(err.message).toContain(`source_admin (${sourceAdmin.user}@${sourceAdmin.host}:${sourceAdmin.port}/${scratchDb})`);
  });

  test('insufficient privilege, as the CDC role', async () => {
    const err = await withClient(withDatabase(cdc, scratchDb), (c) => c.query('CREATE TABLE nope (x int)')).catch((x) => x);
    expect(err).toMatchObject({ code: '42501', kind: 'insufficient-privilege' });
  });

  test('a wrong password is authentication, and the message holds no password', async () => {
    const wrong = withDatabase({ ...sourceAdmin, password: 'definitely-wrong-pw' } as PgConnection, scratchDb);
    Object.defineProperty(wrong, 'password', { value: 'definitely-wrong-pw', enumerable: false });
    const err = await withClient(wrong, async () => undefined).catch((x) => x);
    expect(err).toMatchObject({ code: '28P01', kind: 'authentication', transient: false });
    expect(err.message).not.toContain('definitely-wrong-pw');
    expect(err.message).not.toContain(sourceAdmin.password);
  });

  test('nothing listening is a transient connection failure; a missing database is undefined-database', async () => {
    const closed = { ...sourceAdmin, port: 1 } as PgConnection;
    Object.defineProperty(closed, 'password', { value: sourceAdmin.password, enumerable: false });
    const err = await withClient(closed, async () => undefined).catch((x) => x);
    expect(err).toMatchObject({ code: 'ECONNREFUSED', kind: 'connection', transient: true });
    expect(err.message).toMatch(/^connect to sgcc_source on source_admin .* failed: cannot reach the server \(ECONNREFUSED\)/);
    const missing = await withClient(withDatabase(sourceAdmin, 'gf_no_such_db'), async () => undefined).catch((x) => x);
    expect(missing).toMatchObject({ code: '3D000', kind: 'undefined-database' });
  });
});
