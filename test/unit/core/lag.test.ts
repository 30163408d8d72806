/**
 * Keeping up (src/core/lag.ts): naming the bottleneck from Flink's operator metrics — read through
 * the real REST client from responses recorded while pipeline sgcc drained a 400,000-reading backlog
 * (test/fixtures/flink/pipeline-under-load.json) — and the watch's "falling behind" sentence.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { observeVertexLoads } from '../../../src/activities/lag';
import { FlinkRestClient } from '../../../src/flink/rest';
import { FreshnessObservation, describeBottleneck, findBottleneck, judgeLag, shortVertex } from '../../../src/core/lag';
import { FixtureServer, serve } from '../flink/fixture-server';

interface Recorded {
  request: { method: string; path: string };
  status: number;
  body: unknown;
}
const recorded = (JSON.parse(readFileSync(join(__dirname, '../../fixtures/flink/pipeline-under-load.json'), 'utf8')) as { responses: Recorded[] }).responses;

describe('operator load from the recorded backlog', () => {
  let server: FixtureServer;
  beforeAll(async () => {
    server = await serve((req) => recorded.find((r) => r.request.method === req.method && r.request.path === decodeURIComponent(req.path)));
  });
  afterAll(() => server.close());

  test('every vertex of the four running jobs, busy and back-pressured time each', async () => {
    const loads = await observeVertexLoads(new FlinkRestClient(server.baseUrl), { name: 'sgcc' });
    expect(new Set(loads.map((l) => l.job))).toEqual(new Set(['ingest', 'dws', 'ads', 'sink']));
    expect(loads).toHaveLength(30);
    expect(loads.find((l) => l.vertex.startsWith('GroupAggregate[18]'))).toMatchObject({ job: 'dws', busyMsPerSecond: 213, backPressuredMsPerSecond: 0 });
    // While it drained, the CDC reader of the readings was the busiest operator of the pipeline.
    const b = findBottleneck(loads)!;
    expect(b).toMatchObject({ job: 'ingest', busyMsPerSecond: 580, backPressured: [] });
    expect(describeBottleneck(b)).toBe('ingest: Source: src_equipment_reading[4] … busy 580 ms/s (saturated)');
  });
});

describe('findBottleneck', () => {
  const load = (job: string, vertex: string, busy: number, bp = 0) => ({ job, vertex, busyMsPerSecond: busy, backPressuredMsPerSecond: bp });

  test('the saturated operator, with the vertices it back-pressures in its job', () => {
    const b = findBottleneck([
      load('dws', 'Source: dwd_reading_by_equipment[9] -> MiniBatchAssigner[10] -> Calc[11]', 30, 960),
      load('dws', 'GroupAggregate[18] -> Calc[19] -> ConstraintEnforcer[20]', 990),
      load('ads', 'Source: dws_equipment_latest[44] -> Calc[45]', 4, 0),
      load('ingest', 'Source: src_equipment_reading[4] -> Calc[5]', 120, 700),
    ])!;
    expect(describeBottleneck(b)).toBe('dws: GroupAggregate[18] … busy 990 ms/s (saturated; back-pressuring Source: dwd_reading_by_equipment[9] …)');
  });

  test('mostly idle, or unmeasured (NaN): nothing to name', () => {
    expect(findBottleneck([load('ads', 'Calc[1]', 150), load('sink', 'Sink: x', 20)])).toBeNull();
    expect(findBottleneck([load('ingest', 'Source: src[1]', Number.NaN, 0)])).toBeNull();
    expect(findBottleneck([])).toBeNull();
  });

  test('busy but not saturated is named as the busiest', () => {
    expect(describeBottleneck(findBottleneck([load('sink', 'Source: ads_equipment_health[73] -> Sink', 350)])!)).toBe(
      'sink: Source: ads_equipment_health[73] … busy 350 ms/s (the busiest operator)',
    );
  });

  test('vertex names are cut to their first operator', () => {
    expect(shortVertex('Sink(sgcc.dws_equipment_latest): Writer')).toBe('Sink(sgcc.dws_equipment_latest): Writer');
    expect(shortVertex(`(${'X'.repeat(80)} -> Y`)).toBe(`${'X'.repeat(59)}… …`);
  });
});

describe('judgeLag', () => {
  const f = (over: Partial<FreshnessObservation>): FreshnessObservation => ({ lagMs: 900, newestLatencyMs: 900, pendingForMs: null, at: 0, ...over });

  test('under the limit, or not measured yet: nothing to say', () => {
    expect(judgeLag(f({}), 30_000)).toBeNull();
    expect(judgeLag(f({ lagMs: 30_000 }), 30_000)).toBeNull();
    expect(judgeLag(f({ lagMs: null }), 30_000)).toBeNull();
    expect(judgeLag(null, 30_000)).toBeNull();
  });

  test('past the limit: how far, and where Flink says the time goes', () => {
    expect(judgeLag(f({ lagMs: 45_200 }), 30_000)).toBe('falling behind: freshness 45 s (limit 30 s)');
    expect(judgeLag(f({ lagMs: 62_000, pendingForMs: 62_000 }), 30_000)).toBe(
      'falling behind: a freshness probe sent 62 s ago has not reached the sink (limit 30 s)',
    );
    expect(judgeLag(f({ lagMs: 9_500 }), 8000, null)).toBe(
      'falling behind: freshness 9.5 s (limit 8.0 s); no Flink operator is saturated, so the time goes outside them (source decoding, Fluss, the sink database or the machine)',
    );
    expect(judgeLag(f({ lagMs: 9_500 }), 8000, { job: 'ads', vertex: 'GlobalGroupAggregate[53] -> Calc[54]', busyMsPerSecond: 1000, backPressured: [] })).toBe(
      'falling behind: freshness 9.5 s (limit 8.0 s); bottleneck ads: GlobalGroupAggregate[53] … busy 1000 ms/s (saturated)',
    );
  });
});
