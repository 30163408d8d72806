import { nextVersionSpec, parkVersion, planVersionChange, releaseDue, rollbackRefusal } from '../../../src/core/bluegreen';
import { parseSpec } from '../../../src/core/spec';
import { liveGenerationFrom } from '../../../src/core/versions';
import { testSpec } from '../../workflows/doubles';

const live = parseSpec(testSpec({ name: 'east', redeploy: { strategy: 'blue-green', rollbackWindow: '10min' } }));

describe('a blue/green plan', () => {
  const target = nextVersionSpec(live, { ...live, version: 2 });

  test('a new version: its own names, proven equal before the one switch, the old stopped only after it', () => {
    expect(target.generation).toBe(1);
    const plan = planVersionChange({ live, target, direction: 'forward', requestId: 'r1' });
    const forward = plan.steps.filter((s) => !s.rollback);
    expect(forward.map((s) => s.kind)).toEqual(['claim-version', 'prepare-source', 'version-tables', 'tables', 'slots', 'submit', 'submit', 'submit', 'submit', 'await', 'catch-up', 'verify', 'switch', 'stop-old']);
    expect(forward.filter((s) => s.kind === 'submit').map((s) => s.job)).toEqual(['ingest', 'dws', 'ads', 'sink']);
    expect(forward[0].what).toContain('gridflow_east_v1_*');
    expect(forward[0].what).toContain(`${live.fluss.database}_v1`);
    expect(forward.find((s) => s.kind === 'switch')!.what).toBe("one transaction: dw_east's tables → dw_east_v0, dw_east_v1's → dw_east");
    expect(plan.steps.filter((s) => s.rollback).map((s) => s.kind)).toEqual(['cancel-new', 'drop-new']);
    expect(plan).toMatchObject({ kind: 'blue-green', fromGeneration: 0, toGeneration: 1, fromVersion: 1, toVersion: 2, requestId: 'r1' });
  });

  test('a rollback: no new snapshot, the parked jobs from their savepoints, and nothing of the parked version dropped if it fails', () => {
    const plan = planVersionChange({ live: target, target: live, direction: 'rollback' });
    const kinds = plan.steps.map((s) => s.kind);
    expect(kinds).not.toContain('prepare-source');
    expect(kinds).not.toContain('claim-version');
    expect(kinds).not.toContain('drop-new');
    expect(plan.steps.find((s) => s.kind === 'submit')!.what).toContain('from the savepoint it stopped with');
    expect(plan.steps.find((s) => s.kind === 'switch')!.what).toBe("one transaction: dw_east's tables → dw_east_v1, dw_east_v0's → dw_east");
  });

  test('the parked version is kept for its window, then released; a rollback needs one', () => {
    const parked = parkVersion(live, { ingest: null }, 1_000);
    expect(parked.until).toBe(1_000 + 10 * 60_000);
    expect(parked.points).toEqual({ ingest: null, dws: null, ads: null, sink: null });
    expect(releaseDue(parked, parked.until - 1)).toBe(false);
    expect(releaseDue(parked, parked.until)).toBe(true);
    expect(releaseDue(null, Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(rollbackRefusal({ state: 'RUNNING', busy: false, parked: null })).toMatch(/no earlier version/);
    expect(rollbackRefusal({ state: 'RUNNING', busy: true, parked })).toMatch(/another change/);
    expect(rollbackRefusal({ state: 'PAUSED', busy: false, parked })).toMatch(/PAUSED/);
    expect(rollbackRefusal({ state: 'DEGRADED', busy: false, parked })).toBeNull();
  });
});

describe('the live generation of a pipeline a new workflow takes over', () => {
  const db = live.fluss.database;
  test('nothing claimed, or only generation 0: the spec’s own', () => {
    expect(liveGenerationFrom(live, [], () => 0)).toBe(0);
    expect(liveGenerationFrom(live, [db], () => 0)).toBe(0);
    expect(liveGenerationFrom({ ...live, generation: 2 }, [], () => 0)).toBe(2);
  });
  test('one claimed generation after a release: that one; two (one parked): the one whose version schema holds no tables', () => {
    expect(liveGenerationFrom(live, [`${db}_v3`], () => 0)).toBe(3);
    expect(liveGenerationFrom(live, [db, `${db}_v1`], (g) => (g === 0 ? 6 : 0))).toBe(1);
    expect(liveGenerationFrom(live, [db, `${db}_v1`], (g) => (g === 1 ? 6 : 0))).toBe(0);
    // Another pipeline's names (a prefix match only) do not count.
    expect(liveGenerationFrom(live, [`${db}_vx`, `${db}x_v2`], () => 0)).toBe(0);
  });
});
