/**
 * Act activities heartbeat while they run (issue 12): their heartbeat timeout is 1 minute, so a slow
 * prepareSource, DDL statement or submission must say it is alive, or Temporal would start a second
 * attempt beside the first.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActActivities } from '../../../src/activities/act';
import { ActivityDeps } from '../../../src/activities/context';
import { whileHeartbeating } from '../../../src/activities/helpers';
import { parseSpec } from '../../../src/core/spec';
import { testSpec } from '../../workflows/doubles';

test('a long attempt heartbeats at its interval until it settles, then stops', async () => {
  const env = new MockActivityEnvironment();
  const beats: Array<{ what: string; runningMs: number }> = [];
  env.on('heartbeat', (d: { what: string; runningMs: number }) => beats.push(d));
  const result = await env.run(() => whileHeartbeating('slow step', () => new Promise<string>((r) => setTimeout(() => r('done'), 260)), 50));
  expect(result).toBe('done');
  expect(beats.length).toBeGreaterThanOrEqual(4);
  expect(beats.every((b) => b.what === 'slow step')).toBe(true);
  expect(beats[beats.length - 1].runningMs).toBeGreaterThanOrEqual(150);
  const after = beats.length;
  await new Promise((r) => setTimeout(r, 150));
  expect(beats.length).toBe(after);
});

test('a failing attempt stops heartbeating too, and its error is what the activity throws', async () => {
  const env = new MockActivityEnvironment();
  let beats = 0;
  env.on('heartbeat', () => beats++);
  await expect(env.run(() => whileHeartbeating('doomed', () => Promise.reject(new Error('boom')), 20))).rejects.toThrow('boom');
  const after = beats;
  await new Promise((r) => setTimeout(r, 80));
  expect(beats).toBe(after);
});

test('every act activity heartbeats, under its own name, from its first moment', async () => {
  const unavailable = () => {
    throw new Error('not reachable in this test');
  };
  const deps: ActivityDeps = {
    endpoints: unavailable,
    rest: unavailable,
    gateway: unavailable,
    connection: unavailable,
    now: () => 0,
    sleep: async () => undefined,
  };
  const acts = createActActivities(deps);
  const spec = parseSpec(testSpec());
  const names = Object.keys(acts);
  expect(names).toEqual(expect.arrayContaining(['prepareSource', 'resetOutputs', 'createFlussTables', 'submitJob', 'stopJobWithSavepoint']));
  for (const name of names) {
    const env = new MockActivityEnvironment();
    const beats: string[] = [];
    env.on('heartbeat', (d: { what: string }) => beats.push(d.what));
    const fn = acts[name as keyof typeof acts] as (input: unknown) => Promise<unknown>;
    await env.run(() => fn(name === 'prepareSource' || name === 'resetOutputs' || name === 'prepareSink' || name === 'createFlussTables' || name === 'claimOwnership' ? spec : { spec, job: 'ads', jobId: 'x', triggerId: 't', reason: 'manual', restorePath: null, timeoutMs: 1 })).catch(() => undefined);
    expect(`${name}: ${beats[0]}`).toBe(`${name}: ${name}`);
  }
});
