/** One test per upgrade mode, and each named fallback. */
import { JobRecord, newJobRecord, RestorePoint } from '../../../src/core/types';
import { changedJobs, planJobUpgrade } from '../../../src/core/upgrade';

const ckpt: RestorePoint = { kind: 'checkpoint', path: 'file:///ck/a/chk-7', at: 100, jobId: 'a' };
const runningAds: JobRecord = { ...newJobRecord('ads'), jobId: 'a', flinkState: 'RUNNING', lastCheckpoint: ckpt };

test('savepoint mode on a running job: stop with a savepoint', () => {
  expect(planJobUpgrade('savepoint', runningAds)).toEqual({ job: 'ads', mode: 'savepoint', stop: 'stop-with-savepoint', jobId: 'a', fallback: null });
});

test('savepoint mode on a job that is not running falls back to last-state, by name', () => {
  const step = planJobUpgrade('savepoint', { ...runningAds, flinkState: 'RESTARTING' });
  expect(step).toMatchObject({ mode: 'last-state', stop: 'cancel', jobId: 'a', restore: ckpt });
  expect(step.fallback).toBe('falling back to last-state from savepoint: job is RESTARTING, no savepoint can be taken');
});

test('savepoint mode with nothing to restore from falls back to stateless, by name', () => {
  const step = planJobUpgrade('savepoint', { ...newJobRecord('ads') });
  expect(step).toMatchObject({ mode: 'stateless', stop: 'none', jobId: null });
  expect(step.fallback).toMatch(/^falling back to stateless from savepoint: job is not on the cluster/);
});

test('last-state mode: cancel (checkpoints are retained) and restore the newest checkpoint', () => {
  expect(planJobUpgrade('last-state', runningAds)).toEqual({ job: 'ads', mode: 'last-state', stop: 'cancel', jobId: 'a', restore: ckpt, fallback: null });
  expect(planJobUpgrade('last-state', { ...runningAds, lastCheckpoint: null }).fallback).toBe(
    'falling back to stateless from last-state: no retained checkpoint or savepoint',
  );
});

test('stateless mode: cancel and start empty', () => {
  expect(planJobUpgrade('stateless', runningAds)).toEqual({ job: 'ads', mode: 'stateless', stop: 'cancel', jobId: 'a', fallback: null });
});

test('changed jobs by fingerprint, plus forced ones', () => {
  const current = { ingest: { fingerprint: 'i1' }, dws: { fingerprint: 'd1' }, ads: { fingerprint: 'a1' }, sink: { fingerprint: 's1' } };
  expect(changedJobs(current, { ingest: 'i1', dws: 'd1', ads: 'a2', sink: 's1' })).toEqual(['ads']);
  expect(changedJobs(current, { ingest: 'i1', dws: 'd1', ads: 'a1', sink: 's1' }, ['ingest'])).toEqual(['ingest']);
  expect(changedJobs(current, { ingest: 'i1', dws: 'd1', ads: 'a1', sink: 's1' })).toEqual([]);
});
