import {
  CapacityRow,
  QueryError,
  ageLevel,
  capacityView,
  describeAge,
  flinkJobLink,
  freshnessSeries,
  healthQuerySql,
  intParam,
  kpiView,
  parseHealthQuery,
  parseTimestamp,
  stateLevel,
  temporalWorkflowLink,
} from '../../../src/dashboard/view';

const qs = (s: string) => new URLSearchParams(s);

describe('health list parameters', () => {
  test('defaults: worst health first, 50 rows', () => {
    expect(parseHealthQuery(qs(''))).toEqual({ region: null, type: null, risk: null, sort: 'health_score', order: 'asc', limit: 50, offset: 0 });
  });

  test('filters, sort and paging are taken; risk in Chinese or English', () => {
    expect(parseHealthQuery(qs('region=华北&type=变压器&risk=告警&sort=load_ratio&order=asc&limit=10&offset=20'))).toEqual({
      region: '华北',
      type: '变压器',
      risk: '告警',
      sort: 'load_ratio',
      order: 'asc',
      limit: 10,
      offset: 20,
    });
    expect(parseHealthQuery(qs('risk=attention')).risk).toBe('关注');
    expect(parseHealthQuery(qs('risk=Normal')).risk).toBe('正常');
  });

  test('a measurement sorts highest first unless told; empty filters mean all', () => {
    expect(parseHealthQuery(qs('sort=latest_temperature_c')).order).toBe('desc');
    expect(parseHealthQuery(qs('region=&type=%20')).region).toBeNull();
  });

  test.each([
    ['sort=password', /sort must be one of health_score/],
    ['sort=health_score;drop table x', /sort must be one of/],
    ['order=up', /order must be asc or desc/],
    ['risk=bad', /risk must be one of 告警, 关注, 正常/],
    ['limit=0', /limit must be 1\.\.1000, got 0/],
    ['limit=5000', /limit must be 1\.\.1000/],
    ['limit=ten', /limit must be a whole number/],
    ['offset=-1', /offset must be a whole number/],
    ['regoin=华北', /unknown query parameter "regoin"/],
    ['limit=1&limit=2', /limit given more than once/],
    [`region=${'x'.repeat(65)}`, /region must be a name of at most 64 characters/],
  ])('%s is refused with a message naming the parameter', (query, message) => {
    expect(() => parseHealthQuery(qs(query))).toThrow(QueryError);
    expect(() => parseHealthQuery(qs(query))).toThrow(message);
  });

  test('SQL: values are parameters, the sort column comes from the list, ties broken by id', () => {
    const sql = healthQuerySql(parseHealthQuery(qs("region=华北'--&risk=alarm&sort=load_ratio")));
    expect(sql.where).toBe('WHERE region = $1 AND risk_level = $2');
    expect(sql.params).toEqual(["华北'--", '告警']);
    expect(sql.orderBy).toBe('ORDER BY load_ratio DESC NULLS LAST, equipment_id DESC');
    expect(healthQuerySql(parseHealthQuery(qs('sort=equipment_id'))).orderBy).toBe('ORDER BY equipment_id ASC NULLS LAST');
    expect(healthQuerySql(parseHealthQuery(qs('type=发电机')), 3).where).toBe('WHERE equipment_type = $3');
    expect(healthQuerySql(parseHealthQuery(qs(''))).where).toBe('');
  });

  test('intParam', () => {
    expect(intParam(qs(''), 'minutes', 60, 1, 1440)).toBe(60);
    expect(intParam(qs('minutes=5'), 'minutes', 60, 1, 1440)).toBe(5);
    expect(() => intParam(qs('minutes=1.5'), 'minutes', 60, 1, 1440)).toThrow('minutes must be a whole number 1..1440, got "1.5"');
  });
});

describe('ages', () => {
  test.each([
    [null, '无数据', 'no data'],
    [0, '刚刚', 'just now'],
    [-3000, '刚刚', 'just now'],
    [1999, '刚刚', 'just now'],
    [2000, '2 秒前', '2 s ago'],
    [59_999, '59 秒前', '59 s ago'],
    [60_000, '1 分钟前', '1 min ago'],
    [3_599_999, '59 分钟前', '59 min ago'],
    [3_600_000, '1 小时前', '1 h ago'],
    [47 * 3_600_000, '47 小时前', '47 h ago'],
    [48 * 3_600_000, '2 天前', '2 days ago'],
  ])('%p ms reads %s / %s', (ms, zh, en) => {
    expect(describeAge(ms, 'zh')).toBe(zh);
    expect(describeAge(ms, 'en')).toBe(en);
  });

  test('levels', () => {
    expect([ageLevel(null), ageLevel(0), ageLevel(29_999), ageLevel(30_000), ageLevel(299_999), ageLevel(300_000)]).toEqual(['none', 'fresh', 'fresh', 'stale', 'stale', 'old']);
  });

  test('Postgres timestamptz text parses to epoch ms', () => {
    expect(parseTimestamp('2026-12-04 15:21:26.123+00')).toBe(Date.parse('2026-12-04T15:21:26.123Z'));
    expect(parseTimestamp('2026-12-04 23:21:26+08')).toBe(Date.parse('2026-12-04T15:21:26Z'));
    expect(parseTimestamp(null)).toBeNull();
    expect(parseTimestamp('garbage')).toBeNull();
  });
});

describe('view models', () => {
  test('KPIs from ads_grid_dashboard; no row is no data, not zeros', () => {
    expect(kpiView(undefined)).toBeNull();
    expect(
      kpiView({
        equipment_total: '300',
        running_total: '251',
        installed_capacity_mw: '80000.00',
        current_load_mw: '52000.500',
        alarm_count: '7',
        attention_count: '12',
        updated_at: '2026-12-04 15:00:00+00',
      }),
    ).toEqual({
      equipmentTotal: 300,
      runningTotal: 251,
      installedCapacityMw: 80000,
      currentLoadMw: 52000.5,
      utilization: 0.65,
      alarmCount: 7,
      attentionCount: 12,
      updatedAt: Date.parse('2026-12-04T15:00:00Z'),
    });
    expect(kpiView({ equipment_total: '1', running_total: '0', installed_capacity_mw: '0.00', current_load_mw: '3.000', alarm_count: '0', attention_count: '0', updated_at: '2026-12-04 15:00:00+00' })!.utilization).toBeNull();
  });

  test('capacity: overloaded regions first, then by utilisation; levels for highlighting', () => {
    const row = (region: string, utilization: string | null, overload: boolean, updated = '2026-12-04 15:00:00+00'): CapacityRow => ({
      region,
      installed_capacity_mw: '100.00',
      current_load_mw: '50.000',
      utilization,
      headroom_mw: '50.000',
      overload_alert: overload,
      updated_at: updated,
    });
    const view = capacityView([row('华东', '0.5000', false), row('华北', '0.9000', true), row('东北', null, false), row('西北', '0.7500', false, '2026-12-04 15:00:05+00')]);
    expect(view.regions.map((r) => [r.region, r.level])).toEqual([
      ['华北', 'overload'],
      ['西北', 'tight'],
      ['华东', 'ok'],
      ['东北', 'unknown'],
    ]);
    expect(view.overloaded).toBe(1);
    expect(view.updatedAt).toBe(Date.parse('2026-12-04T15:00:05Z'));
  });

  test('freshness: one point per probe, the slowest hop that logged it, oldest first', () => {
    const epoch = 1_577_836_800;
    const sent = (s: number) => (epoch + s) * 1000;
    const points = freshnessSeries(
      [
        { hop: 'health', probe_value: '100.000', arrived_ms: sent(100) + 800 },
        { hop: 'dashboard', probe_value: '100.000', arrived_ms: sent(100) + 1500 },
        { hop: 'capacity', probe_value: '40.500', arrived_ms: sent(40.5) + 300 },
        { hop: 'health', probe_value: '100', arrived_ms: sent(100) + 900 },
      ],
      epoch,
    );
    expect(points).toEqual([
      { sentAt: sent(40.5), arrivedAt: sent(40.5) + 300, latencyMs: 300, hops: 1 },
      { sentAt: sent(100), arrivedAt: sent(100) + 1500, latencyMs: 1500, hops: 3 },
    ]);
  });

  test('links into the Flink and Temporal UIs', () => {
    expect(flinkJobLink('http://127.0.0.1:8081/', 'a'.repeat(32))).toBe(`http://127.0.0.1:8081/#/job/running/${'a'.repeat(32)}/overview`);
    expect(flinkJobLink('http://127.0.0.1:8081', null)).toBeNull();
    expect(flinkJobLink('http://127.0.0.1:8081', '../x')).toBeNull();
    expect(temporalWorkflowLink('http://127.0.0.1:8233', 'default', 'pipeline:sgcc')).toBe('http://127.0.0.1:8233/namespaces/default/workflows/pipeline%3Asgcc');
  });

  test('state colours', () => {
    expect([stateLevel('RUNNING'), stateLevel('RECOVERING'), stateLevel('DEGRADED'), stateLevel('PAUSED'), stateLevel(null)]).toEqual(['ok', 'busy', 'bad', 'idle', 'unknown']);
  });
});
