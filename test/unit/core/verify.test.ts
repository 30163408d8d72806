/** The pure part of verification: options, pass/fail, the sentences and the summary. */
import {
  CompareResult,
  FreshnessResult,
  TableResult,
  VerificationResult,
  describeCut,
  describeTable,
  formatBytes,
  formatMs,
  judgeVerification,
  parseVerifyOptions,
  summarizeVerification,
  verifyLimits,
} from '../../../src/core/verify';
import { TrackedComparison, compareTable as compareRowsOf } from '../../../src/postgres/compare';
import { Row, WAREHOUSE_TABLE_NAMES, WarehouseTable } from '../../../src/postgres/warehouse-tables';

/** reconcile's comparison, with nothing moving (a first attempt). */
const compareTable = (t: WarehouseTable, e: Row[], a: Row[]): TrackedComparison => ({ ...compareRowsOf(t, e, a), moving: 0 });

const freshness = (over: Partial<FreshnessResult> = {}): FreshnessResult => ({
  probeId: 'p-1',
  sent: true,
  arrived: true,
  freshnessMs: 640,
  hopsMs: { health: 450, capacity: 640, dashboard: 600 },
  waitedMs: 700,
  limitMs: 30_000,
  timeoutMs: 60_000,
  jobs: null,
  error: null,
  ...over,
});

const sameTables = () => WAREHOUSE_TABLE_NAMES.map((t) => compareTable(t, [], []));
const compare = (over: Partial<CompareResult> = {}): CompareResult => ({ ok: true, consistent: true, attempts: 1, tables: sameTables(), moving: 0, earlier: [], error: null, ...over });

type Rep = VerificationResult['replication'];
const replication = (over: Partial<Extract<Rep, { error: null }>> = {}): Rep => ({
  ok: true,
  currentLsn: '0/16B3740',
  slots: [
    { name: 'gridflow_sgcc_power_equipment', table: 'power_equipment', exists: true, active: true, walStatus: 'reserved', lagBytes: 0, retainedBytes: 100 },
    { name: 'gridflow_sgcc_equipment_reading', table: 'equipment_reading', exists: true, active: true, walStatus: 'reserved', lagBytes: 3 * 1024, retainedBytes: 100 },
  ],
  publications: [],
  problems: [],
  otherSlots: [],
  error: null,
  ...over,
});

const run = (over: Partial<Pick<VerificationResult, 'freshness' | 'compare' | 'replication'>> = {}) => ({
  freshness: freshness(),
  compare: compare(),
  replication: replication(),
  ...over,
});

describe('options', () => {
  test('defaults', () => {
    const o = parseVerifyOptions(undefined);
    expect(o).toEqual({ probeTimeout: '60s', compareAttempts: 4, compareRetryWait: '3s', expectActive: true, keepProbes: 20 });
    expect(verifyLimits(o)).toEqual({ probeTimeoutMs: 60_000, maxFreshnessMs: 30_000, compareRetryWaitMs: 3000 });
    // The freshness limit is the pipeline's own (spec watch.maxFreshness) unless the run names one.
    expect(verifyLimits(o, { watch: { maxFreshness: '5s' } }).maxFreshnessMs).toBe(5000);
    expect(verifyLimits(parseVerifyOptions({ maxFreshness: '2s' }), { watch: { maxFreshness: '5s' } }).maxFreshnessMs).toBe(2000);
  });

  test('a bad value or an unknown field is refused naming the field', () => {
    expect(() => parseVerifyOptions({ probeTimeout: 'soon' })).toThrow('invalid verification input: options.probeTimeout: a duration such as 500ms, 10s, 5min or 1h');
    expect(() => parseVerifyOptions({ keepProbes: 0 })).toThrow(/options\.keepProbes: Number must be greater than or equal to 1/);
    expect(() => parseVerifyOptions({ retries: 3 })).toThrow('invalid verification input: options: unknown field "retries"');
  });
});

describe('judgeVerification', () => {
  test('everything healthy: no problem', () => {
    expect(judgeVerification(run())).toEqual([]);
  });

  test('differences that did not persist (moving) do not count', () => {
    expect(judgeVerification(run({ compare: compare({ consistent: false, attempts: 2, moving: 140, earlier: ['attempt 1: 141 differing cells, 141 persisting so far'] }) }))).toEqual([]);
  });

  test('a probe that never arrived names the jobs that are not running', () => {
    const jobs = [
      { job: 'ingest', flinkName: 'gridflow/sgcc/ingest', state: 'RUNNING' },
      { job: 'dws', flinkName: 'gridflow/sgcc/dws', state: 'RUNNING' },
      { job: 'ads', flinkName: 'gridflow/sgcc/ads', state: 'RESTARTING' },
      { job: 'sink', flinkName: 'gridflow/sgcc/sink', state: null },
    ];
    expect(judgeVerification(run({ freshness: freshness({ arrived: false, freshnessMs: null, jobs }) }))).toEqual([
      'Freshness: probe p-1 did not reach the sink within 60 s, so the pipeline is not moving data: job gridflow/sgcc/ads is RESTARTING, job gridflow/sgcc/sink is not deployed.',
    ]);
  });

  test('a probe that never arrived while every job runs: one of them emits nothing', () => {
    const jobs = ['ingest', 'dws', 'ads', 'sink'].map((job) => ({ job, flinkName: `gridflow/sgcc/${job}`, state: 'RUNNING' }));
    const [problem] = judgeVerification(run({ freshness: freshness({ arrived: false, freshnessMs: null, timeoutMs: 1500, jobs }) }));
    expect(problem).toBe('Freshness: probe p-1 did not reach the sink within 1.5 s, so the pipeline is not moving data: every job is RUNNING, so one of them emits nothing (check its exceptions and checkpoints).');
  });

  test('a probe that could not be sent, or not awaited', () => {
    expect(judgeVerification(run({ freshness: freshness({ sent: false, arrived: false, freshnessMs: null, error: 'relation "gridflow_probe" does not exist' }) }))).toEqual([
      'The freshness probe could not be sent: relation "gridflow_probe" does not exist.',
    ]);
    expect(judgeVerification(run({ freshness: freshness({ arrived: false, freshnessMs: null, error: 'sink down' }) }))).toEqual([
      'The freshness probe p-1 could not be awaited: sink down.',
    ]);
  });

  test('slow freshness names the bottleneck Flink shows, else the hop that came out last; exactly at the limit passes', () => {
    const late = { freshnessMs: 31_000, hopsMs: { health: 30_500, capacity: 31_000, dashboard: 30_900 } };
    expect(judgeVerification(run({ freshness: freshness(late) }))).toEqual([
      'Freshness: probe p-1 took 31.0 s to reach the sink, more than the limit of 30.0 s (last out: capacity, 31.0 s).',
    ]);
    expect(judgeVerification(run({ freshness: freshness({ ...late, bottleneck: 'dws: GroupAggregate[18] busy 990 ms/s' }) }))).toEqual([
      'Freshness: probe p-1 took 31.0 s to reach the sink, more than the limit of 30.0 s (bottleneck: dws: GroupAggregate[18] busy 990 ms/s).',
    ]);
    expect(judgeVerification(run({ freshness: freshness({ freshnessMs: 30_000 }) }))).toEqual([]);
  });

  test('a probe that never came out: stalled, or behind with the bottleneck named', () => {
    const lost = { arrived: false, freshnessMs: null, hopsMs: { health: null, capacity: null, dashboard: null } };
    expect(judgeVerification(run({ freshness: freshness({ ...lost, jobs: [{ job: 'ads', flinkName: 'gridflow/p/ads', state: 'FAILED' }] }) }))).toEqual([
      'Freshness: probe p-1 did not reach the sink within 60 s, so the pipeline is not moving data: job gridflow/p/ads is FAILED.',
    ]);
    expect(judgeVerification(run({ freshness: freshness({ ...lost, bottleneck: 'ingest: Source: src_equipment_reading busy 1000 ms/s' }) }))).toEqual([
      'Freshness: probe p-1 did not reach the sink within 60 s, so the pipeline is at least that far behind (bottleneck: ingest: Source: src_equipment_reading busy 1000 ms/s).',
    ]);
  });

  test('each differing table is one sentence with its first example of each kind', () => {
    const tables = sameTables();
    tables[0] = compareTable(
      'dws_equipment_type_stats',
      [
        { equipment_type: '发电机', equipment_count: 10, running_count: 8, total_capacity_mw: '100.00', avg_capacity_mw: '10.00' },
        { equipment_type: '变压器', equipment_count: 3, running_count: 3, total_capacity_mw: null, avg_capacity_mw: null },
      ],
      [
        { equipment_type: '发电机', equipment_count: 10, running_count: 8, total_capacity_mw: '100.02', avg_capacity_mw: '10.00' },
        { equipment_type: '储能', equipment_count: 1, running_count: 1, total_capacity_mw: '5.00', avg_capacity_mw: '5.00' },
      ],
    );
    const problems = judgeVerification(run({ compare: compare({ ok: false, attempts: 4, tables }) }));
    expect(problems).toEqual([
      'dws_equipment_type_stats: 1 missing, 1 extra, 1 different (total_capacity_mw 1); e.g. equipment_type=发电机: total_capacity_mw is 100.02 in the sink, 100.00 by the contract; ' +
        'equipment_type=变压器 missing from the sink; equipment_type=储能 in the sink but not in the contract.',
    ]);
  });

  test('NULLs are shown as NULL', () => {
    const t = compareTable(
      'ads_equipment_health',
      [{ equipment_id: 'GEN-0001', load_ratio: null }],
      [{ equipment_id: 'GEN-0001', load_ratio: '0.5000' }],
    );
    expect(describeTable(t)).toMatch(/equipment_id=GEN-0001: load_ratio is 0\.5000 in the sink, NULL by the contract\.$/);
  });

  test('a comparison or replication read that failed is a problem with its reason', () => {
    expect(
      judgeVerification(run({ compare: compare({ ok: false, tables: [], error: 'connect to sgcc_dw failed' }), replication: { ok: false, error: 'permission denied' } })),
    ).toEqual(['The sink could not be compared with the contract: connect to sgcc_dw failed.', 'Replication health could not be read: permission denied.']);
  });

  test('replication problems keep their own sentences, after freshness and tables', () => {
    const problems = judgeVerification(
      run({
        freshness: freshness({ arrived: false, freshnessMs: null, jobs: [] }),
        replication: replication({ ok: false, problems: [{ kind: 'slot-inactive', name: 'gridflow_sgcc_power_equipment', message: 'Replication slot gridflow_sgcc_power_equipment is not being read.' }] }),
      }),
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^Freshness: /);
    expect(problems[1]).toBe('Replication slot gridflow_sgcc_power_equipment is not being read.');
  });
});

describe('summary', () => {
  test('a pass: tables, rows, freshness, slots and the worst lag', () => {
    const tables = sameTables();
    tables[1] = compareTable('dws_region_stats', [{ region: '华北' }, { region: '华东' }], [{ region: '华北' }, { region: '华东' }]);
    expect(summarizeVerification({ ...run({ compare: compare({ tables }) }), problems: [] })).toBe(
      'ok: all 6 sink tables equal the contract (2 rows), freshness 640 ms, 2 replication slots healthy (max lag 3.0 KiB)',
    );
  });

  test('a pass while the source kept changing says so', () => {
    expect(summarizeVerification({ ...run({ compare: compare({ consistent: false, moving: 12, attempts: 2 }) }), problems: [] })).toBe(
      'ok: no lasting difference from the contract in 6 sink tables (0 rows; 12 cells in flight, the source kept changing), freshness 640 ms, 2 replication slots healthy (max lag 3.0 KiB)',
    );
  });

  test('a pass at a cut says what it proves: tables whose keys all held still, and per moving table how many keys were checked', () => {
    const cut = (t: WarehouseTable, checked: number, movingKeys: number, gone = 0): TableResult => ({ ...compareTable(t, [], []), checked, movingKeys, moving: movingKeys + gone, stale: { count: 0, examples: [] } });
    const tables = [
      cut('dws_equipment_type_stats', 4, 0),
      cut('dws_region_stats', 6, 0),
      cut('dws_voltage_level_stats', 5, 0, 1),
      cut('ads_equipment_health', 12, 288),
      cut('ads_capacity_planning', 2, 4),
      cut('ads_grid_dashboard', 0, 1),
    ];
    expect(summarizeVerification({ ...run({ compare: compare({ consistent: false, moving: 294, cutMs: 85, tables }) }), problems: [] })).toBe(
      'ok: no lasting difference at the cut (every key whose inputs held still equals the contract): 3 tables: all 15 keys checked; ' +
        'ads_equipment_health 12 of 300 keys checked (288 moving); ads_capacity_planning 2 of 6 keys checked (4 moving); ads_grid_dashboard 0 of 1 keys checked (1 moving); ' +
        '1 difference gone on a later look (in flight); no moving key unwritten for more than 30 s, freshness 640 ms, 2 replication slots healthy (max lag 3.0 KiB)',
    );
    expect(describeCut([cut('dws_region_stats', 6, 0)], 2000)).toBe(
      'no lasting difference at the cut (every key whose inputs held still equals the contract): every table: all 6 keys checked; no moving key unwritten for more than 2 s',
    );
  });

  test('a stale key: its key and how long the sink has not written it while its inputs moved', () => {
    const grid = { dashboard_id: 'grid', equipment_total: 300 };
    const t: TableResult = {
      ...compareTable('ads_grid_dashboard', [], []),
      ok: false,
      checked: 0,
      movingKeys: 0,
      stale: { count: 1, examples: [{ key: { dashboard_id: 'grid' }, row: grid, expected: grid, updatedAt: '2026-12-07 10:00:00+00', ageMs: 306_000 }] },
    };
    expect(describeTable(t)).toBe('ads_grid_dashboard: 1 stale; e.g. dashboard_id=grid not written for 5.1 min while its inputs moved.');
    expect(judgeVerification(run({ compare: compare({ ok: false, consistent: false, tables: [t] }) }))).toEqual([describeTable(t)]);
  });

  test('a failure lists the problems, cut at 1500 characters', () => {
    const s = summarizeVerification({ ...run(), problems: ['A is wrong.', 'B is wrong.'] });
    expect(s).toBe('2 problems: A is wrong. B is wrong.');
    const long = summarizeVerification({ ...run(), problems: ['x'.repeat(5000)] });
    expect(long).toHaveLength(1500);
    expect(long.endsWith('…')).toBe(true);
  });

  test('units', () => {
    expect([formatMs(640.4), formatMs(9999), formatMs(12_345)]).toEqual(['640 ms', '9999 ms', '12.3 s']);
    expect([formatBytes(0), formatBytes(2048), formatBytes(5 * 1024 * 1024), formatBytes(3 * 1024 ** 3)]).toEqual(['0 B', '2.0 KiB', '5.0 MiB', '3.00 GiB']);
  });
});
