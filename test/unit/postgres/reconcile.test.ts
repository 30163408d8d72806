import { MAX_EXAMPLES, compareRows, compareTable, summarize } from '../../../src/postgres/compare';
import { Row, WAREHOUSE_TABLES, WAREHOUSE_TABLE_NAMES, parseDecimal, toEpochMicros, valuesEqual } from '../../../src/postgres/warehouse-tables';
import * as fs from 'node:fs';
import * as path from 'node:path';

const health = (id: string, over: Partial<Row> = {}): Row => ({
  equipment_id: id,
  equipment_name: `华北发电机 #${id}`,
  equipment_type: '发电机',
  region: '华北',
  status: '运行',
  rated_capacity_mw: '300.00',
  latest_load_mw: '150.000',
  latest_temperature_c: '55.25',
  latest_measured_at: '2026-01-01 00:05:00.123456+00',
  load_ratio: '0.5000',
  health_score: 100,
  risk_level: '正常',
  updated_at: '2026-11-26 12:00:00+00',
  ...over,
});

describe('valuesEqual: tolerances exactly as PIPELINE.md says', () => {
  test('decimals within 0.01, boundary included, computed exactly (no float error)', () => {
    expect(valuesEqual('decimal', '1.00', '1.01')).toBe(true); // 1.01 - 1.00 is 0.010000000000000009 in floats
    expect(valuesEqual('decimal', '100.005', '100.015')).toBe(true);
    expect(valuesEqual('decimal', '1.00', '1.011')).toBe(false);
    expect(valuesEqual('decimal', '-0.005', '0.006')).toBe(false);
    expect(valuesEqual('decimal', '12345678901234567.01', '12345678901234567.02')).toBe(true); // beyond float precision
    expect(valuesEqual('decimal', '12345678901234567.01', '12345678901234567.03')).toBe(false);
    expect(valuesEqual('decimal', 1.5, '1.50')).toBe(true);
  });

  test('ratios within 0.0001', () => {
    expect(valuesEqual('ratio', '0.8500', '0.8501')).toBe(true);
    expect(valuesEqual('ratio', '0.8500', '0.85011')).toBe(false);
    expect(valuesEqual('ratio', '1.0000', '1.0002')).toBe(false);
  });

  test('timestamps within 1 ms, to the microsecond, across offsets and formats', () => {
    expect(valuesEqual('timestamp', '2026-01-01 00:00:00.000000+00', '2026-01-01 00:00:00.001+00')).toBe(true);
    expect(valuesEqual('timestamp', '2026-01-01 00:00:00+00', '2026-01-01 00:00:00.001001+00')).toBe(false);
    expect(valuesEqual('timestamp', '2026-01-01 08:00:00+08', '2026-01-01T00:00:00Z')).toBe(true);
    expect(valuesEqual('timestamp', '2026-01-01 08:00:00+08', '2026-01-01 08:00:00+00')).toBe(false);
    expect(valuesEqual('timestamp', new Date('2026-01-01T00:00:00.000Z'), '2026-01-01 00:00:00.0009+00')).toBe(true);
  });

  test('NULL equals only NULL, for every kind', () => {
    for (const kind of ['text', 'int', 'decimal', 'ratio', 'timestamp', 'boolean'] as const) {
      expect(valuesEqual(kind, null, null)).toBe(true);
      expect(valuesEqual(kind, null, undefined)).toBe(true);
    }
    expect(valuesEqual('decimal', null, '0')).toBe(false);
    expect(valuesEqual('decimal', '0.00', null)).toBe(false);
    expect(valuesEqual('text', '', null)).toBe(false);
    expect(valuesEqual('boolean', false, null)).toBe(false);
    expect(valuesEqual('int', 0, null)).toBe(false);
  });

  test('booleans, ints and strings are exact', () => {
    expect(valuesEqual('boolean', true, true)).toBe(true);
    expect(valuesEqual('boolean', true, false)).toBe(false);
    expect(valuesEqual('int', '300', 300)).toBe(true);
    expect(valuesEqual('int', '300', 301)).toBe(false);
    expect(valuesEqual('int', '9007199254740993', '9007199254740992')).toBe(false); // beyond 2^53
    expect(valuesEqual('text', '运行', '运行')).toBe(true);
    expect(valuesEqual('text', '运行', '运行 ')).toBe(false);
    expect(valuesEqual('text', 'a', 'A')).toBe(false);
  });

  test('parsers', () => {
    expect(parseDecimal('1e-7')).toEqual({ digits: 1n, scale: 7 });
    expect(parseDecimal('-12.50')).toEqual({ digits: -1250n, scale: 2 });
    expect(parseDecimal('abc')).toBeUndefined();
    expect(toEpochMicros('1970-01-01 00:00:01.000002+00')).toBe(1_000_002n);
    expect(toEpochMicros('1970-01-01 05:30:00+05:30')).toBe(0n);
    expect(toEpochMicros('nonsense')).toBeUndefined();
  });
});

describe('compareTable', () => {
  test('identical rows are ok; updated_at is never compared', () => {
    const r = compareTable('ads_equipment_health', [health('A')], [health('A', { updated_at: '2030-01-01 00:00:00+00' })]);
    expect(r).toMatchObject({ ok: true, expectedCount: 1, actualCount: 1 });
    expect(r.missing.count + r.extra.count + r.different.count).toBe(0);
  });

  test('missing, extra and different rows, matched by primary key, with examples', () => {
    const expected = [health('A'), health('B'), health('C', { load_ratio: null, rated_capacity_mw: null })];
    const actual = [
      health('A', { load_ratio: '0.5002', latest_temperature_c: '55.26' }), // ratio out, decimal within
      health('C', { load_ratio: null, rated_capacity_mw: '0.00' }), // NULL vs 0
      health('D'),
    ];
    const r = compareTable('ads_equipment_health', expected, actual);
    expect(r.ok).toBe(false);
    expect(r.missing).toEqual({ count: 1, examples: [{ key: { equipment_id: 'B' }, row: expect.objectContaining({ equipment_id: 'B' }) }] });
    expect(r.missing.examples[0].row).not.toHaveProperty('updated_at');
    expect(r.extra.count).toBe(1);
    expect(r.extra.examples[0].key).toEqual({ equipment_id: 'D' });
    expect(r.different.count).toBe(2);
    expect(r.different.cells).toBe(2);
    expect(r.different.columns).toEqual({ load_ratio: 1, rated_capacity_mw: 1 });
    expect(r.different.examples).toEqual([
      { key: { equipment_id: 'A' }, column: 'load_ratio', expected: '0.5000', actual: '0.5002' },
      { key: { equipment_id: 'C' }, column: 'rated_capacity_mw', expected: null, actual: '0.00' },
    ]);
  });

  test('examples are capped at 5 per kind and ordered by key; counts are not capped', () => {
    const ids = Array.from({ length: 12 }, (_, i) => `E${String(i).padStart(2, '0')}`);
    const expected = ids.map((id) => health(id));
    const actual = [...ids].reverse().map((id) => health(id, { health_score: 99, risk_level: '关注' }));
    const r = compareTable('ads_equipment_health', expected, actual);
    expect(r.different.count).toBe(12);
    expect(r.different.cells).toBe(24);
    expect(r.different.examples).toHaveLength(MAX_EXAMPLES);
    expect(r.different.examples.map((e) => e.key.equipment_id)).toEqual(['E00', 'E00', 'E01', 'E01', 'E02']);

    const r2 = compareTable('ads_equipment_health', expected, []);
    expect(r2.missing.count).toBe(12);
    expect(r2.missing.examples.map((e) => e.key.equipment_id)).toEqual(['E00', 'E01', 'E02', 'E03', 'E04']);
    const r3 = compareTable('ads_equipment_health', [], expected);
    expect(r3.extra.count).toBe(12);
    expect(r3.extra.examples).toHaveLength(5);
  });

  test('integer keys match across representations (10 vs "10")', () => {
    const e = [{ voltage_level_kv: 10, equipment_count: '3', total_capacity_mw: '10.00', avg_capacity_mw: '3.33' }];
    const a = [{ voltage_level_kv: '10', equipment_count: 3, total_capacity_mw: '10.001', avg_capacity_mw: '3.34' }];
    expect(compareTable('dws_voltage_level_stats', e, a).ok).toBe(true);
  });

  test('a duplicate key in the sink counts as extra', () => {
    const row = { dashboard_id: 'grid', equipment_total: 1, running_total: 1, installed_capacity_mw: '1', current_load_mw: '1', alarm_count: 0, attention_count: 0 };
    const r = compareTable('ads_grid_dashboard', [row], [row, { ...row }]);
    expect(r.extra.count).toBe(1);
    expect(r.ok).toBe(false);
  });

  test('boolean differences are reported', () => {
    const row = { region: '华北', installed_capacity_mw: '100.00', current_load_mw: '90.000', utilization: '0.9000', headroom_mw: '10.000', overload_alert: true };
    const r = compareTable('ads_capacity_planning', [row], [{ ...row, overload_alert: false }]);
    expect(r.different.examples).toEqual([{ key: { region: '华北' }, column: 'overload_alert', expected: true, actual: false }]);
  });

  test('compareRows covers all six tables and summarize names what differs', () => {
    const empty = Object.fromEntries(WAREHOUSE_TABLE_NAMES.map((t) => [t, []])) as never;
    const ok = compareRows(empty, empty);
    expect(ok.ok).toBe(true);
    expect(ok.tables.map((t) => t.table)).toEqual([...WAREHOUSE_TABLE_NAMES]);
    const bad = compareRows({ ...(empty as object), ads_equipment_health: [health('A')] } as never, empty);
    expect(bad.ok).toBe(false);
    expect(summarize(bad)).toContain('ads_equipment_health: 1 missing');
  });
});

describe('the table description matches the SQL', () => {
  test('every dw table has the described columns and key (the contract files are checked by readContract at run time)', () => {
    const root = path.resolve(__dirname, '../../../sql');
    const dw = fs.readFileSync(path.join(root, 'sink/dw.sql'), 'utf8');
    for (const name of WAREHOUSE_TABLE_NAMES) {
      const d = WAREHOUSE_TABLES[name];
      expect(d.key.every((k) => d.columns.some(([c]) => c === k))).toBe(true);
      expect(d.columns.some(([c]) => c === 'updated_at')).toBe(false);
      const block = new RegExp(`CREATE TABLE IF NOT EXISTS \\$\\{sink_schema\\}\\.${name} \\(([\\s\\S]*?)\\n\\);`).exec(dw)?.[1];
      expect(block).toBeDefined();
      for (const [column] of d.columns) expect(block).toMatch(new RegExp(`^\\s+${column}\\s`, 'm'));
      expect(block).toMatch(new RegExp(`^\\s+${d.key[0]}\\s+\\w+\\s+PRIMARY KEY`, 'm'));
    }
  });
});
