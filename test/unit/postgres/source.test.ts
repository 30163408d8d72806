import { CAPTURED_TABLES, artifactName } from '../../../src/postgres/source/names';
import { ExpectedReplication, ObservedPublication, ObservedReplication, ObservedSlot, checkReplication } from '../../../src/postgres/source/replication';
import { SourceFacts, judgeSource } from '../../../src/postgres/source/preflight';

/** Facts as recorded from the local stack's source after schema.sql: everything in order. */
function goodFacts(): SourceFacts {
  return {
    serverVersionNum: 150018,
    database: 'sgcc_source',
    admin: { role: 'gridflow_admin', superuser: true, replication: true, canCreateInDatabase: true },
    walLevel: 'logical',
    maxReplicationSlots: 20,
    slotsInUse: 0,
    ownSlots: [],
    maxWalSenders: 20,
    sendersInUse: 0,
    ownSenders: 0,
    schemaExists: true,
    tables: CAPTURED_TABLES.map((table) => ({
      table,
      exists: true,
      hasPrimaryKey: true,
      replicaIdentity: 'full' as const,
      owner: 'gridflow_admin',
      cdcCanSelect: true,
    })),
    cdc: { role: 'gridflow_cdc', exists: true, canLogin: true, replication: true, superuser: false, canConnect: true, schemaUsage: true },
  };
}
const need = { schema: 'public', slotsNeeded: 2, sendersNeeded: 2 };

describe('judgeSource (preflight from recorded facts)', () => {
  test('the local stack after schema.sql has no problem', () => {
    expect(judgeSource(goodFacts(), need)).toEqual([]);
  });

  test('wal_level replica: names the setting and the fix', () => {
    const problems = judgeSource({ ...goodFacts(), walLevel: 'replica' }, need);
    expect(problems).toEqual([
      {
        check: 'wal-level',
        message: "wal_level is 'replica' but CDC needs 'logical': run ALTER SYSTEM SET wal_level = logical as a superuser, then restart PostgreSQL.",
        fixedByPrepare: false,
      },
    ]);
  });

  test('slots: max minus those in use, not counting our own existing slots', () => {
    const ours = CAPTURED_TABLES.map((t) => artifactName('p1', t));
    // 20 slots, 18 used by others + our 2: exactly enough
    expect(judgeSource({ ...goodFacts(), slotsInUse: 20, ownSlots: ours }, need)).toEqual([]);
    // 19 used by others, none ours: 1 free, 2 needed
    const [p] = judgeSource({ ...goodFacts(), slotsInUse: 19 }, need);
    expect(p.check).toBe('replication-slots');
    expect(p.message).toBe(
      'Only 1 replication slot can be used (max_replication_slots = 20, 19 used by others) but the pipeline needs 2: ' +
        'raise max_replication_slots to at least 21 (ALTER SYSTEM SET max_replication_slots = 21, then restart PostgreSQL) ' +
        'or drop unused slots listed in pg_replication_slots.',
    );
  });

  test('WAL senders: busy senders of our own slots count as available', () => {
    expect(judgeSource({ ...goodFacts(), maxWalSenders: 4, sendersInUse: 4, ownSenders: 2 }, need)).toEqual([]);
    const problems = judgeSource({ ...goodFacts(), maxWalSenders: 4, sendersInUse: 3, ownSenders: 0 }, need);
    expect(problems.map((p) => p.check)).toEqual(['wal-senders']);
    expect(problems[0].message).toMatch(/^Only 1 WAL sender can be used \(max_wal_senders = 4, 3 busy with other clients\).*ALTER SYSTEM SET max_wal_senders = 5/);
  });

  test('tables: missing, without primary key, without REPLICA IDENTITY FULL; the role without SELECT', () => {
    const facts = goodFacts();
    facts.tables[0] = { ...facts.tables[0], replicaIdentity: 'default', cdcCanSelect: false };
    facts.tables[1] = { ...facts.tables[1], hasPrimaryKey: false };
    const problems = judgeSource(facts, need);
    expect(problems.map((p) => [p.check, p.fixedByPrepare])).toEqual([
      ['replica-identity', true],
      ['cdc-select', true],
      ['primary-key', false],
    ]);
    expect(problems[0].message).toBe(
      "Table public.power_equipment has REPLICA IDENTITY DEFAULT but the CDC sources run with changelog-mode 'all', which needs full " +
        'before-images of updates and deletes: run ALTER TABLE public.power_equipment REPLICA IDENTITY FULL (prepareSource does this).',
    );
    expect(problems[1].message).toContain('GRANT SELECT ON public.power_equipment TO gridflow_cdc');
    expect(problems[2].message).toContain('Table public.equipment_reading has no primary key');
    expect(problems[2].message).toContain('ALTER TABLE public.equipment_reading ADD PRIMARY KEY');
    // An application table is never created by prepareSource.
    facts.tables[1] = { table: 'equipment_reading', exists: false, hasPrimaryKey: false, replicaIdentity: null, owner: null, cdcCanSelect: false };
    const missingApp = judgeSource(facts, need).find((p) => p.message.includes('equipment_reading'))!;
    expect([missingApp.check, missingApp.fixedByPrepare]).toEqual(['table-missing', false]);
    expect(missingApp.message).toMatch(/^Table public.equipment_reading does not exist in database sgcc_source: create it/);
  });

  test('a missing schema is one problem, not one per table', () => {
    const facts = { ...goodFacts(), schemaExists: false, tables: goodFacts().tables.map((t) => ({ ...t, exists: false })) };
    facts.cdc = { ...facts.cdc, schemaUsage: false };
    expect(judgeSource(facts, { ...need, schema: 'oltp' }).map((p) => p.check)).toEqual(['schema-missing']);
  });

  test('the CDC role: missing; without LOGIN, REPLICATION, CONNECT, USAGE', () => {
    const missing = judgeSource({ ...goodFacts(), cdc: { ...goodFacts().cdc, exists: false, canLogin: false, replication: false, canConnect: false, schemaUsage: false } }, need);
    expect(missing.map((p) => p.check)).toEqual(['cdc-role-missing']);
    expect(missing[0].message).toContain('CREATE ROLE gridflow_cdc LOGIN REPLICATION');

    const weak = judgeSource({ ...goodFacts(), cdc: { ...goodFacts().cdc, canLogin: false, replication: false, canConnect: false, schemaUsage: false } }, need);
    expect(weak.map((p) => p.check)).toEqual(['cdc-login', 'cdc-replication', 'cdc-connect', 'cdc-schema-usage']);
    expect(weak.map((p) => p.message)).toEqual([
      'Role gridflow_cdc cannot log in: run ALTER ROLE gridflow_cdc LOGIN.',
      'Role gridflow_cdc lacks the REPLICATION attribute, so it cannot stream changes from a replication slot: run ALTER ROLE gridflow_cdc REPLICATION.',
      'Role gridflow_cdc has no CONNECT privilege on database sgcc_source: run GRANT CONNECT ON DATABASE sgcc_source TO gridflow_cdc (prepareSource does this).',
      'Role gridflow_cdc has no USAGE privilege on schema public, so it cannot read the captured tables: run GRANT USAGE ON SCHEMA public TO gridflow_cdc (prepareSource does this).',
    ]);
    // Least privilege: a superuser, or the tables' owner (the admin's connection named as CDC), is refused.
    const superuser = judgeSource({ ...goodFacts(), cdc: { ...goodFacts().cdc, replication: false, superuser: true } }, need);
    expect(superuser.map((p) => p.check)).toEqual(['cdc-superuser']);
    expect(superuser[0].message).toMatch(/^Role gridflow_cdc is a superuser; .*REPLICATION, CONNECT and SELECT on the captured tables and nothing more/);
    const owner = judgeSource({ ...goodFacts(), cdc: { ...goodFacts().cdc, role: 'gridflow_admin' } }, need);
    expect(owner.map((p) => p.check)).toContain('cdc-owner');
    expect(owner.find((p) => p.check === 'cdc-owner')!.message).toMatch(/^Role gridflow_admin owns public\.power_equipment, public\.equipment_reading: /);
  });

  test('the admin role: cannot replicate, create or does not own the tables', () => {
    const facts = { ...goodFacts(), admin: { role: 'ops', superuser: false, replication: false, canCreateInDatabase: false } };
    const checks = judgeSource(facts, need).map((p) => p.check);
    expect(checks).toEqual(['admin-replication', 'admin-create', 'admin-owner', 'admin-owner']);
  });

  test('every problem is one sentence with a fix', () => {
    const facts = goodFacts();
    const all = judgeSource(
      {
        ...facts,
        walLevel: 'minimal',
        slotsInUse: 30,
        sendersInUse: 30,
        tables: facts.tables.map((t) => ({ ...t, replicaIdentity: 'nothing' as const, hasPrimaryKey: false })),
        cdc: { ...facts.cdc, canLogin: false },
      },
      need,
    );
    expect(all.length).toBeGreaterThanOrEqual(8);
    for (const p of all) {
      expect(p.message).toMatch(/^[A-Za-z].*\.$/);
      expect(p.message).toMatch(/: (run|raise|create|add|upgrade|set) /i);
    }
  });
});

describe('artifactName', () => {
  test('matches sql/flink/ingest.sql and refuses names Postgres would truncate', () => {
    expect(artifactName('sgcc', 'power_equipment')).toBe('gridflow_sgcc_power_equipment');
    expect(artifactName('a'.repeat(36), 'equipment_reading')).toHaveLength(63);
    expect(() => artifactName('a'.repeat(37), 'equipment_reading')).toThrow(/longer than 63 bytes/);
    expect(() => artifactName('Bad', 'x')).toThrow(/must match/);
  });
});

describe('checkReplication', () => {
  const slot = (table: string, over: Partial<ObservedSlot> = {}): ObservedSlot => ({
    name: artifactName('p1', table),
    plugin: 'pgoutput',
    slotType: 'logical',
    database: 'sgcc_source',
    temporary: false,
    active: true,
    activePid: 4242,
    walStatus: 'reserved',
    restartLsn: '0/1000000',
    confirmedFlushLsn: '0/1000100',
    lagBytes: 1024,
    retainedBytes: 4096,
    ...over,
  });
  const pub = (table: string, over: Partial<ObservedPublication> = {}): ObservedPublication => ({
    name: artifactName('p1', table),
    allTables: false,
    publishes: { insert: true, update: true, delete: true, truncate: true },
    tables: [`public.${table}`],
    rowFiltered: [],
    columnLists: [],
    schemas: [],
    ...over,
  });
  const healthy = (): ObservedReplication => ({
    pipeline: 'p1',
    database: 'sgcc_source',
    currentLsn: '0/1000500',
    slots: CAPTURED_TABLES.map((t) => slot(t)),
    publications: CAPTURED_TABLES.map((t) => pub(t)),
    otherSlots: [],
  });
  const expected: ExpectedReplication = { pipeline: 'p1', schema: 'public', tables: CAPTURED_TABLES, expectActive: true, maxLagBytes: 1_000_000 };

  test('a healthy pipeline has no problem', () => {
    expect(checkReplication(healthy(), expected)).toEqual([]);
  });

  test('missing slot and publication', () => {
    const o = healthy();
    o.slots = o.slots.slice(1);
    o.publications = o.publications.slice(0, 1);
    const problems = checkReplication(o, expected);
    expect(problems.map((p) => [p.kind, p.name])).toEqual([
      ['slot-missing', 'gridflow_p1_power_equipment'],
      ['publication-missing', 'gridflow_p1_equipment_reading'],
    ]);
  });

  test('inactive only matters when the job should run', () => {
    const o = healthy();
    o.slots[1] = slot('equipment_reading', { active: false, activePid: null });
    expect(checkReplication(o, expected).map((p) => p.kind)).toEqual(['slot-inactive']);
    expect(checkReplication(o, { ...expected, expectActive: false })).toEqual([]);
  });

  test('wal_status lost and unreserved, lag over the threshold (not at it)', () => {
    const o = healthy();
    o.slots = [slot('power_equipment', { walStatus: 'lost' }), slot('equipment_reading', { walStatus: 'unreserved' })];
    expect(checkReplication(o, expected).map((p) => p.kind)).toEqual(['slot-lost', 'slot-unreserved']);
    o.slots = [slot('power_equipment', { lagBytes: 1_000_001 }), slot('equipment_reading', { lagBytes: 1_000_000 })];
    const problems = checkReplication(o, expected);
    expect(problems.map((p) => p.kind)).toEqual(['slot-lag']);
    expect(problems[0].message).toContain('1.0 MiB behind');
  });

  test('wrong plugin or database', () => {
    const o = healthy();
    o.slots[0] = slot('power_equipment', { plugin: 'test_decoding' });
    o.slots[1] = slot('equipment_reading', { database: 'other_db' });
    expect(checkReplication(o, expected).map((p) => p.kind)).toEqual(['slot-not-pgoutput', 'slot-wrong-database']);
  });

  test('publication with extra tables, without its table, FOR ALL TABLES, missing actions, filters', () => {
    const o = healthy();
    o.publications = [
      pub('power_equipment', { tables: ['public.equipment_reading', 'public.power_equipment'] }),
      pub('equipment_reading', { tables: ['public.other_table'] }),
    ];
    const problems = checkReplication(o, expected);
    expect(problems.map((p) => [p.kind, p.name])).toEqual([
      ['publication-extra-tables', 'gridflow_p1_power_equipment'],
      ['publication-missing-table', 'gridflow_p1_equipment_reading'],
      ['publication-extra-tables', 'gridflow_p1_equipment_reading'],
    ]);
    expect(problems[0].message).toBe(
      'Publication gridflow_p1_power_equipment also holds public.equipment_reading, so its slot decodes changes nobody reads: run prepareSource to set it to exactly public.power_equipment.',
    );
    o.publications[1] = pub('equipment_reading', { allTables: true, tables: ['public.equipment_reading', 'public.other_table', 'public.power_equipment'] });
    const all = checkReplication(o, expected);
    expect(all.map((p) => [p.kind, p.name])).toEqual([
      ['publication-extra-tables', 'gridflow_p1_power_equipment'],
      ['publication-extra-tables', 'gridflow_p1_equipment_reading'],
    ]);
    expect(all[1].message).toContain('is FOR ALL TABLES');

    const o2 = healthy();
    o2.publications[0] = pub('power_equipment', { publishes: { insert: true, update: true, delete: false, truncate: false } });
    o2.publications[1] = pub('equipment_reading', { rowFiltered: ['public.equipment_reading'] });
    expect(checkReplication(o2, expected).map((p) => p.kind)).toEqual(['publication-actions', 'publication-filter']);
  });
});
