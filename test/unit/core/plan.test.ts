import { JOB_DEPENDENCIES, jobOrder, planJobs, slotsNeeded, stopOrder } from '../../../src/core/plan';
import { parseSpec } from '../../../src/core/spec';
import { testSpec } from '../../workflows/doubles';

test('jobs start in dependency order and stop in reverse', () => {
  expect(jobOrder()).toEqual(['ingest', 'dws', 'ads', 'sink']);
  expect(stopOrder(['ingest', 'sink', 'ads'])).toEqual(['sink', 'ads', 'ingest']);
  for (const [job, deps] of Object.entries(JOB_DEPENDENCIES)) {
    for (const dep of deps) expect(jobOrder().indexOf(dep)).toBeLessThan(jobOrder().indexOf(job));
  }
});

test('a dependency cycle or an unknown job is an error', () => {
  expect(() => jobOrder({ a: ['b'], b: ['a'] })).toThrow('job dependency cycle: a → b → a');
  expect(() => jobOrder({ a: ['zzz'] })).toThrow('job a depends on unknown job zzz');
});

test('slots: one per job at parallelism 1, the parallelism otherwise', () => {
  expect(slotsNeeded(parseSpec(testSpec()))).toBe(4);
  const spec = parseSpec(testSpec({ jobs: { ads: { parallelism: 3 }, sink: { parallelism: 2 } } }));
  expect(slotsNeeded(spec)).toBe(7);
  expect(slotsNeeded(spec, ['ads'])).toBe(3);
  expect(planJobs(spec).map((j) => [j.job, j.flinkName, j.slots])).toEqual([
    ['ingest', 'gridflow/wf/ingest', 1],
    ['dws', 'gridflow/wf/dws', 1],
    ['ads', 'gridflow/wf/ads', 3],
    ['sink', 'gridflow/wf/sink', 2],
  ]);
});
