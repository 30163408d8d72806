/** Differences that persist across attempts (src/postgres/compare.ts). */
import { MAX_TRACKED, compareTable, compareTracked, differingCells } from '../../../src/postgres/compare';
import { Row, TableRows, WAREHOUSE_TABLE_NAMES } from '../../../src/postgres/warehouse-tables';

const region = (r: string, running: number | string, capacity: string | null = '100.00'): Row => ({
  region: r,
  equipment_count: 10,
  running_count: running,
  maintenance_count: 0,
  outage_count: 0,
  total_capacity_mw: capacity,
});

const only = (rows: Partial<TableRows>): TableRows => ({ ...(Object.fromEntries(WAREHOUSE_TABLE_NAMES.map((t) => [t, []])) as unknown as TableRows), ...rows });

describe('differingCells', () => {
  test('counts what compareTable counts: missing, extra, duplicate keys, cells outside tolerance, NULLs', () => {
    const expected = [region('华北', 8), region('华东', 3, null), region('华中', 5), region('东北', '2')];
    const actual = [region('华北', 7), region('华东', 3, '0.00'), region('东北', 2), region('西南', 1), region('西南', 1), region('华北', 8, '100.009')];
    const cells = differingCells('dws_region_stats', expected, actual);
    const c = compareTable('dws_region_stats', expected, actual);
    expect(cells.filter((x) => x.kind === 'missing')).toHaveLength(c.missing.count);
    expect(cells.filter((x) => x.kind === 'extra')).toHaveLength(c.extra.count);
    expect(cells.filter((x) => x.kind === 'different')).toHaveLength(c.different.cells);
    // Ints compare as integers ('2' = 2; 东北 is equal), decimals within 0.01, NULL only equals NULL; the
    // duplicate 华北 is an extra row. Ordered by key (byte order), a row before its cells.
    expect(cells.map((x) => [x.kind, x.key.region, x.column ?? null])).toEqual([
      ['different', '华东', 'total_capacity_mw'],
      ['missing', '华中', null],
      ['extra', '华北', null],
      ['different', '华北', 'running_count'],
      ['extra', '西南', null],
      ['extra', '西南', null],
    ]);
    expect(new Set(cells.map((x) => x.fp)).size).toBe(cells.length);
  });

  test('the fingerprint is the same for the same difference and changes with either value', () => {
    const fp = (e: Row[], a: Row[]) => differingCells('dws_region_stats', e, a).map((x) => x.fp);
    expect(fp([region('华北', 8)], [region('华北', 7)])).toEqual(fp([region('华北', '8')], [region('华北', '7')]));
    expect(fp([region('华北', 8)], [region('华北', 7)])).not.toEqual(fp([region('华北', 9)], [region('华北', 7)]));
    expect(fp([region('华北', 8)], [region('华北', 7)])).not.toEqual(fp([region('华北', 8)], [region('华北', 6)]));
  });
});

describe('compareTracked', () => {
  test('without track: every difference counts, in reconcile shape, with its fingerprints for the next attempt', () => {
    const r = compareTracked(only({ dws_region_stats: [region('华北', 8), region('华东', 3)] }), only({ dws_region_stats: [region('华北', 7)] }), null);
    expect(r.consistent).toBe(false);
    expect(r.cells).toBe(2);
    const t = r.tables.find((x) => x.table === 'dws_region_stats')!;
    expect(t).toMatchObject({
      ok: false,
      expectedCount: 2,
      actualCount: 1,
      moving: 0,
      missing: { count: 1, examples: [{ key: { region: '华东' }, row: region('华东', 3) }] },
      extra: { count: 0, examples: [] },
      different: { count: 1, cells: 1, columns: { running_count: 1 }, examples: [{ key: { region: '华北' }, column: 'running_count', expected: 8, actual: 7 }] },
    });
    expect(r.track).toHaveLength(2);
    expect([...r.track].sort()).toEqual(r.track);
  });

  test('with track: only differences seen identically before persist; the others are moving', () => {
    const first = compareTracked(only({ dws_region_stats: [region('华北', 8), region('华东', 3)] }), only({ dws_region_stats: [region('华北', 7), region('华东', 4)] }), null);
    // 华北 still 7 vs 8 (persists); 华东 now 3 vs 5 (same cell, another value: moving); 华中 new (moving).
    const second = compareTracked(
      only({ dws_region_stats: [region('华北', 8), region('华东', 3), region('华中', 1)] }),
      only({ dws_region_stats: [region('华北', 7), region('华东', 5)] }),
      first.track,
    );
    const t = second.tables.find((x) => x.table === 'dws_region_stats')!;
    expect(t.different.examples).toEqual([{ key: { region: '华北' }, column: 'running_count', expected: 8, actual: 7 }]);
    expect(t.missing.count).toBe(0);
    expect(t.moving).toBe(2);
    expect(second.cells).toBe(3);
    expect(second.track).toHaveLength(1);
    // Equal now: consistent, nothing tracked.
    const third = compareTracked(only({}), only({}), second.track);
    expect(third).toMatchObject({ consistent: true, cells: 0, track: [] });
    expect(third.tables.every((x) => x.ok && x.moving === 0)).toBe(true);
  });

  test('at most MAX_TRACKED fingerprints are carried', () => {
    const many = Array.from({ length: MAX_TRACKED + 5 }, (_, i) => region(`r${i}`, 1));
    const r = compareTracked(only({ dws_region_stats: many }), only({}), null);
    expect(r.cells).toBe(MAX_TRACKED + 5);
    expect(r.track).toHaveLength(MAX_TRACKED);
    expect(r.tables.find((x) => x.table === 'dws_region_stats')!.missing.examples).toHaveLength(5);
  });
});
