/** What the Temporal UI shows at the top of a pipeline's and a verification run's page (src/core/metadata.ts). */
import {
  age,
  pipelineCurrentDetails,
  pipelineStartMetadata,
  verificationCurrentDetails,
  verificationProgressDetails,
  verificationStartMetadata,
} from '../../../src/core/metadata';
import { parseSpec } from '../../../src/core/spec';
import type { PipelineStatus } from '../../../src/core/state';
import { VerificationResult } from '../../../src/core/verify';
import { testSpec } from '../../workflows/doubles';

const NOW = Date.parse('2026-12-04T15:30:00.000Z');
const spec = (over: Record<string, unknown> = {}) => parseSpec(testSpec({ name: 'sgcc', ...over }));

const job = (name: 'ingest' | 'dws' | 'ads' | 'sink', over: Partial<PipelineStatus['jobs'][number]> = {}): PipelineStatus['jobs'][number] => ({
  job: name,
  flinkName: `gridflow/sgcc/${name}`,
  jobId: `id-${name}`,
  flinkState: 'RUNNING',
  lastCheckpoint: { kind: 'checkpoint', path: `file:///cp/${name}`, at: NOW - 4_000, jobId: `id-${name}` },
  lastSavepoint: null,
  restoredFrom: null,
  restartsInWindow: 0,
  lastError: null,
  ...over,
});

const status = (over: Partial<PipelineStatus> = {}): PipelineStatus => ({
  pipeline: 'sgcc',
  version: 2,
  state: 'RUNNING',
  reason: null,
  jobs: [job('ingest'), job('dws'), job('ads'), job('sink')],
  lastVerification: null,
  lastRedeploy: null,
  alerts: [],
  observedAt: NOW - 1000,
  freshness: null,
  ...over,
});

describe('age', () => {
  test('seconds, then minutes, hours and days; never negative', () => {
    expect(age(NOW, NOW - 4_400)).toBe('4 s');
    expect(age(NOW, NOW - 119_000)).toBe('119 s');
    expect(age(NOW, NOW - 180_000)).toBe('3 min');
    expect(age(NOW, NOW - 3 * 3600_000)).toBe('3 h');
    expect(age(NOW, NOW - 72 * 3600_000)).toBe('3 d');
    expect(age(NOW, NOW + 2_000)).toBe('0 s');
  });
});

describe('pipeline', () => {
  test('start metadata: the pipeline and the version it starts with; how to redeploy from the UI', () => {
    const m = pipelineStartMetadata(spec({ version: 3 }));
    expect(m.staticSummary).toBe('pipeline sgcc, spec version 3 at start');
    expect(m.staticDetails).toContain('Fluss database `sgcc`, sink schema `dw`; watched every 1s.');
    expect(m.staticDetails).toContain('*Send a Signal* or *Send an Update* named `redeploy` with input `{"requestId": "<new id>", "jobs": ["sink"]}`');
    expect(m.staticDetails.split('\n').pop()).toBe('*The same from a shell: `gridflow status --name sgcc`, `gridflow redeploy`.*');
  });

  test('a running pipeline: state, version, each job with its checkpoint age, as of the workflow time', () => {
    expect(pipelineCurrentDetails(status(), NOW)).toBe(
      [
        '**RUNNING** · pipeline sgcc spec version 2 · as of 2026-12-04T15:30:00.000Z',
        '',
        '- job ingest: RUNNING, checkpoint 4 s old',
        '- job dws: RUNNING, checkpoint 4 s old',
        '- job ads: RUNNING, checkpoint 4 s old',
        '- job sink: RUNNING, checkpoint 4 s old',
        '- freshness: not measured yet',
        '- last verification: none yet',
        '',
        '*All of it, and more: the `status` query.*',
      ].join('\n'),
    );
  });

  test('degraded: the reason, restarts and errors (markup escaped), freshness, verification, redeploy, rejection, alert', () => {
    const text = pipelineCurrentDetails(
      status({
        state: 'DEGRADED',
        reason: 'job dws restarted 4 times in 10min (restart storm)',
        jobs: [
          job('ingest'),
          job('dws', { flinkState: 'RESTARTING', restartsInWindow: 4, lastError: 'java.lang.RuntimeException: bad *row* | id=7\n\tat Foo.bar' }),
          job('ads', { lastCheckpoint: null }),
          job('sink', { flinkState: null, jobId: null, lastCheckpoint: null }),
        ],
        freshness: { lagMs: 1234, newestLatencyMs: 900, pendingForMs: 1234, at: NOW - 5_000 },
        lastVerification: { runId: 'verify:sgcc-1', at: NOW - 180_000, ok: false, freshnessMs: 800, summary: '1 problem: sink table dws_x differs' },
        lastRedeploy: { outcome: 'rolled-back', fromVersion: 1, toVersion: 2, jobs: ['ads'], reason: 'ads not RUNNING in 3min' },
        redeployRejections: [{ at: NOW - 61_000, requestId: 'ui-7', reason: 'the pipeline is paused; resume it before redeploying' }],
        alerts: [{ at: NOW - 30_000, kind: 'restart-storm', message: 'job dws restarted 4 times' }],
      }),
      NOW,
    );
    expect(text.split('\n')).toEqual([
      '**DEGRADED** · pipeline sgcc spec version 2 · as of 2026-12-04T15:30:00.000Z',
      '',
      'Reason: job dws restarted 4 times in 10min (restart storm)',
      '',
      '- job ingest: RUNNING, checkpoint 4 s old',
      '- job dws: RESTARTING, checkpoint 4 s old, 4 restarts lately, last error: java.lang.RuntimeException: bad \\*row\\* \\| id=7',
      '- job ads: RUNNING',
      '- job sink: not submitted',
      '- freshness: 1.2 s behind (measured 5 s ago)',
      '- last verification: **FAIL** 3 min ago — 1 problem: sink table dws\\_x differs',
      '- last redeploy: v1 → v2 **rolled-back** (ads) — ads not RUNNING in 3min',
      '- last rejected redeploy ui-7: 61 s ago — the pipeline is paused; resume it before redeploying',
      '- last alert: 30 s ago, restart-storm: job dws restarted 4 times',
      '',
      '*All of it, and more: the `status` query.*',
    ]);
  });

  test('the text changes with the state and with the clock it is given', () => {
    const deploying = pipelineCurrentDetails(status({ state: 'DEPLOYING', jobs: [job('ingest', { flinkState: null, lastCheckpoint: null })] }), NOW);
    expect(deploying).toMatch(/^\*\*DEPLOYING\*\*/);
    expect(deploying).toContain('- job ingest: not submitted');
    expect(pipelineCurrentDetails(status(), NOW + 60_000)).toContain('as of 2026-12-04T15:31:00.000Z');
    expect(pipelineCurrentDetails(status(), NOW + 60_000)).toContain('checkpoint 64 s old');
  });

  test('long texts are cut to one line', () => {
    const text = pipelineCurrentDetails(status({ state: 'BLOCKED', reason: `${'x'.repeat(500)}\nsecond line` }), NOW);
    const reason = text.split('\n').find((l) => l.startsWith('Reason: '))!;
    expect(reason).toHaveLength('Reason: '.length + 200);
    expect(reason.endsWith('…')).toBe(true);
    expect(text).not.toContain('second line');
  });
});

describe('verification', () => {
  const result = (over: Partial<VerificationResult> = {}): VerificationResult => ({
    runId: 'verify:sgcc-1/r1',
    pipeline: 'sgcc',
    ok: true,
    startedAt: NOW - 9000,
    finishedAt: NOW,
    durationMs: 9000,
    freshness: { probeId: 'p', sent: true, arrived: true, freshnessMs: 640, hopsMs: null, waitedMs: 700, limitMs: 30_000, timeoutMs: 60_000, jobs: null, error: null },
    compare: {
      ok: true,
      consistent: true,
      attempts: 1,
      tables: ['a', 'b'].map((table) => ({ table, expectedCount: 3, actualCount: 3, missing: { count: 0, examples: [] }, extra: { count: 0, examples: [] }, different: { rows: 0, cells: 0, examples: [] } })) as never,
      moving: 0,
      earlier: [],
      error: null,
    },
    replication: { ok: true, currentLsn: '0/1', slots: [{}, {}] as never, publications: [], problems: [], otherSlots: [], error: null },
    problems: [],
    summary: 'ok: all 2 sink tables equal the contract (6 rows), freshness 640 ms',
    signal: { workflowId: 'pipeline:sgcc', delivered: true, note: null },
    recorded: true,
    notes: [],
    ...over,
  });

  test('start metadata and progress', () => {
    expect(verificationStartMetadata(spec()).staticSummary).toBe('verification of pipeline sgcc (spec version 1)');
    expect(verificationProgressDetails('sgcc', 'comparing the sink with the contract', NOW)).toBe(
      '**RUNNING** · verification of pipeline sgcc · as of 2026-12-04T15:30:00.000Z\n\ncomparing the sink with the contract',
    );
  });

  test('a pass: each check in a line, then the summary', () => {
    expect(verificationCurrentDetails(result(), NOW).split('\n')).toEqual([
      '**PASS** · verification of pipeline sgcc · as of 2026-12-04T15:30:00.000Z',
      '',
      '- freshness: 0.6 s (limit 30.0 s)',
      '- contract: 2 of 2 sink tables equal (1 attempt)',
      '- replication: 2 slots healthy',
      '- pipeline workflow told; run recorded',
      '',
      'ok: all 2 sink tables equal the contract (6 rows), freshness 640 ms',
      '',
      '*Everything the run found: its result, and `gridflow verify history`.*',
    ]);
  });

  test('a failure: what could not be checked, and why', () => {
    const r = result({
      ok: false,
      freshness: { ...result().freshness, freshnessMs: null, arrived: false, error: 'sink down' },
      compare: { ...result().compare, ok: false, tables: [], error: 'connect ECONNREFUSED 127.0.0.1:15433' },
      replication: { ok: false, error: 'source down' },
      signal: { workflowId: 'pipeline:sgcc', delivered: false, note: 'closed' },
      recorded: false,
      summary: '3 problems: …',
    });
    expect(verificationCurrentDetails(r, NOW).split('\n').slice(0, 6)).toEqual([
      '**FAIL** · verification of pipeline sgcc · as of 2026-12-04T15:30:00.000Z',
      '',
      '- freshness: not measured — sink down',
      '- contract: not compared — connect ECONNREFUSED 127.0.0.1:15433',
      '- replication: not checked — source down',
      '- pipeline workflow not told; run not recorded',
    ]);
  });
});
