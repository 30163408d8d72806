import { judgeClaim, ownedObjects, savepointFolder } from '../../../src/core/ownership';
import { markStep, skipPending } from '../../../src/core/plans';
import { planRedeploy, refusedChange, requestProblem, strandedSentence } from '../../../src/core/redeploy';
import { JOB_NAMES, JobName, parseSpec } from '../../../src/core/spec';
import { JobRecord, newJobRecord } from '../../../src/core/types';
import { testSpec } from '../../workflows/doubles';

const TABLES = ['power_equipment', 'equipment_reading'];

describe('ownership', () => {
  test('everything a pipeline touches is named from its name or its spec', () => {
    const spec = parseSpec(testSpec({ name: 'east' }));
    expect(ownedObjects(spec, TABLES)).toEqual([
      { kind: 'fluss-database', name: 'east' },
      { kind: 'sink-schema', name: 'dw_east' },
      { kind: 'sink-schema', name: 'dw_east_v0' },
      { kind: 'replication-slot', name: 'gridflow_east_power_equipment' },
      { kind: 'replication-slot', name: 'gridflow_east_equipment_reading' },
      { kind: 'publication', name: 'gridflow_east_power_equipment' },
      { kind: 'publication', name: 'gridflow_east_equipment_reading' },
      { kind: 'savepoint-folder', name: 'file:///tmp/gridflow-test-savepoints/east' },
      { kind: 'flink-jobs', name: 'gridflow/east/' },
      { kind: 'probe', name: 'east' },
    ]);
    expect(savepointFolder({ name: 'sgcc', savepointDir: 's3://bucket/sp/' })).toBe('s3://bucket/sp/sgcc');
  });

  test('a claim takes what is free, keeps what is its own, and names the owner of the rest', () => {
    const wanted = [
      { kind: 'fluss-database' as const, name: 'sgcc' },
      { kind: 'sink-schema' as const, name: 'dw_other' },
      { kind: 'probe' as const, name: 'other' },
    ];
    const held = [
      { kind: 'fluss-database' as const, name: 'sgcc', pipeline: 'sgcc', claimedAt: '2026-12-01T10:00:00.000Z' },
      { kind: 'probe' as const, name: 'other', pipeline: 'other', claimedAt: '2026-12-01T11:00:00.000Z' },
    ];
    const verdict = judgeClaim('other', wanted, held);
    expect(verdict.take).toEqual([{ kind: 'sink-schema', name: 'dw_other' }]);
    expect(verdict.conflicts).toEqual([
      'Fluss database sgcc (spec field fluss.database) belongs to pipeline sgcc (claimed 2026-12-01T10:00:00.000Z); pipeline other may not use it: ' +
        'name another in its spec, or drop sgcc first (gridflow decommission --name sgcc --drop-slots)',
    ]);
    expect(judgeClaim('sgcc', wanted, held).conflicts).toHaveLength(1); // the probe rows of `other`
  });
});

describe('redeploy plan', () => {
  const previous = parseSpec(testSpec());
  const records = Object.fromEntries(
    JOB_NAMES.map((j) => [j, { ...newJobRecord(j), jobId: `id-${j}`, flinkState: 'RUNNING' } as JobRecord]),
  ) as Record<JobName, JobRecord>;

  test('every step, forward and rollback, before any runs', () => {
    const next = parseSpec(testSpec({ version: 2, jobs: { ads: { parallelism: 2 }, sink: { parallelism: 2 } } }));
    const plan = planRedeploy({ previous, next, records, jobs: ['sink', 'ads'], mode: 'savepoint', requestId: 'r1' });
    expect(plan.jobs).toEqual(['ads', 'sink']);
    expect(plan.steps.map((s) => `${s.rollback ? 'R ' : ''}${s.what}`)).toEqual([
      'sink: stop with a savepoint',
      'ads: stop with a savepoint',
      'Fluss tables of v2 in wf',
      '4 task slot(s) for v2',
      'ads: submit v2 from its restore point',
      'sink: submit v2 from its restore point',
      'ads, sink RUNNING within 10s',
      'R cancel what was submitted of v2',
      'R 2 task slot(s) for v1',
      'R ads: start v1 again from the restore point it was stopped with',
      'R sink: start v1 again from the restore point it was stopped with',
      'R v1 RUNNING within 10s',
    ]);
    expect(plan.steps.every((s) => s.status === 'pending')).toBe(true);
    const done = skipPending(markStep(plan, 1, 'done'), true);
    expect(done.steps.filter((s) => s.status === 'skipped')).toHaveLength(5);
    expect(done.steps[0].status).toBe('done');
  });

  test('a job that is not running is planned with its fallback named', () => {
    const failed = { ...records, ads: { ...records.ads, flinkState: 'FAILED' as const } };
    const plan = planRedeploy({ previous, next: previous, records: failed, jobs: ['ads'], mode: 'savepoint' });
    expect(plan.steps[0].what).toMatch(/^ads: already stopped \(stateless\) — falling back to stateless from savepoint: job is FAILED/);
  });

  test('changes of where the pipeline lives are refused with the fields named', () => {
    expect(refusedChange(previous, parseSpec(testSpec({ version: 2 })))).toBeNull();
    expect(refusedChange(previous, parseSpec(testSpec({ flink: 'other' })))).toMatch(
      /^a redeploy cannot change flink\.cluster \(local → other\)/,
    );
    expect(refusedChange(previous, parseSpec(testSpec({ name: 'other' })))).toMatch(/spec.name is other, but this workflow runs pipeline wf/);
  });

  test.each([
    [{ mode: 'stateless' }, /mode "stateless" is not one of savepoint, last-state/],
    [{ jobs: [] }, /jobs must be a non-empty list/],
    [{ jobs: ['reporting'] }, /jobs: "reporting" is not one of/],
    [{ requestId: 'x'.repeat(101) }, /requestId must be 1–100 characters/],
    [null, /must be an object/],
  ])('a malformed request: %j', (request, message) => {
    expect(requestProblem(request as never)).toMatch(message);
  });

  test('jobs left stopped are named with what they can restart from', () => {
    const stopped = { ...records, ads: { ...records.ads, stopped: true, savepoints: [{ kind: 'savepoint' as const, path: 'file:///sp/ads/sp-1', at: 1, jobId: 'id-ads' }] } };
    expect(strandedSentence(records)).toBeNull();
    expect(strandedSentence(stopped)).toBe(
      'job(s) stopped and not running: ads (restore point file:///sp/ads/sp-1); start them with gridflow redeploy --jobs ads',
    );
  });
});
