/**
 * When a new workflow may continue from savepoints an earlier one recorded (src/core/resume.ts):
 * only when nothing moved since. Every refusal names its reason.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localPath, savepointOnDisk } from '../../../src/activities/helpers';
import { RecordedSavepoint, ResumeFacts, judgeResume } from '../../../src/core/resume';
import { JOB_NAMES, JobName } from '../../../src/core/spec';

const SLOTS = ['gridflow_p_power_equipment', 'gridflow_p_equipment_reading', 'gridflow_p_gridflow_probe'];
const fingerprints = Object.fromEntries(JOB_NAMES.map((j) => [j, `fp-${j}`])) as Record<JobName, string>;

function stop(job: JobName, overrides: Partial<RecordedSavepoint> = {}): RecordedSavepoint {
  return {
    path: `file:/sp/savepoint-${job}`,
    kind: 'stop-with-savepoint',
    takenAt: '2026-11-26T12:00:00.000Z',
    jobId: 'a'.repeat(32),
    fingerprint: `fp-${job}`,
    sourcePositions: job === 'ingest' ? Object.fromEntries(SLOTS.map((s) => [s, '0/16B3748'])) : null,
    ...overrides,
  };
}

function facts(overrides: Partial<ResumeFacts> = {}): ResumeFacts {
  return {
    fingerprints,
    newest: Object.fromEntries(JOB_NAMES.map((j) => [j, stop(j)])) as Record<JobName, RecordedSavepoint>,
    slots: SLOTS.map((name) => ({ name, active: false, confirmedFlushLsn: '0/16b3748' })),
    slotNames: SLOTS,
    missingFlussTables: [],
    savepointExists: {},
    version: 3,
    ...overrides,
  };
}

const reason = (f: ResumeFacts) => {
  const d = judgeResume(f);
  if (d.resume) throw new Error('expected a refusal');
  return d.reason;
};

test('everything where it was left: every job resumes from its savepoint, tagged with the version to deploy', () => {
  const d = judgeResume(facts());
  expect(d.resume).toBe(true);
  if (!d.resume) return;
  expect(d.points.ingest).toEqual({ kind: 'savepoint', path: 'file:/sp/savepoint-ingest', at: Date.parse('2026-11-26T12:00:00Z'), jobId: 'a'.repeat(32), reason: 'stop', version: 3 });
  expect(d.summary).toBe('ingest from file:/sp/savepoint-ingest, dws from file:/sp/savepoint-dws, ads from file:/sp/savepoint-ads, sink from file:/sp/savepoint-sink');
});

test('downstream jobs may resume from a periodic savepoint: they re-read Fluss from its offsets', () => {
  const newest = { ...facts().newest, dws: stop('dws', { kind: 'savepoint' }) };
  const d = judgeResume(facts({ newest }));
  expect(d.resume && d.points.dws.reason).toBeUndefined();
  expect(d.resume).toBe(true);
});

test.each<[string, Partial<ResumeFacts>, RegExp]>([
  ['no savepoint at all', { newest: { ...facts().newest, ads: null } }, /^ads has no recorded savepoint$/],
  ['changed SQL', { fingerprints: { ...fingerprints, sink: 'fp-sink-v2' } }, /^sink's SQL changed since its newest savepoint file:\/sp\/savepoint-sink$/],
  ['a row from before fingerprints were recorded', { newest: { ...facts().newest, dws: stop('dws', { fingerprint: null }) } }, /dws's newest savepoint has no recorded SQL fingerprint/],
  ['a savepoint deleted from disk', { savepointExists: { 'file:/sp/savepoint-ads': false } }, /ads's savepoint file:\/sp\/savepoint-ads no longer exists/],
  [
    'ingest ran on after a periodic savepoint',
    { newest: { ...facts().newest, ingest: stop('ingest', { kind: 'savepoint', sourcePositions: null }) } },
    /ingest's newest savepoint is a savepoint, not a stop-with-savepoint/,
  ],
  ['positions never recorded', { newest: { ...facts().newest, ingest: stop('ingest', { sourcePositions: null }) } }, /slot positions at the ingest stop were not recorded/],
  ['a slot dropped', { slots: facts().slots.slice(1) }, /replication slot gridflow_p_power_equipment is missing/],
  [
    'a slot consumed since',
    { slots: facts().slots.map((s, i) => (i === 1 ? { ...s, confirmedFlushLsn: '0/16B9000' } : s)) },
    /replication slot gridflow_p_equipment_reading moved since the ingest stop \(0\/16B3748 then, 0\/16B9000 now\)/,
  ],
  ['a slot in use', { slots: facts().slots.map((s, i) => (i === 2 ? { ...s, active: true } : s)) }, /replication slot gridflow_p_gridflow_probe is in use by another consumer/],
  ['Fluss tables gone', { missingFlussTables: ['dwd_power_equipment', 'dws_region_stats'] }, /Fluss table\(s\) dwd_power_equipment, dws_region_stats are gone/],
])('refused: %s', (_label, overrides, expected) => {
  expect(reason(facts(overrides))).toMatch(expected);
});

test('every reason is given, not just the first', () => {
  const r = reason(facts({ fingerprints: { ...fingerprints, dws: 'x' }, missingFlussTables: ['ads_grid_dashboard'] }));
  expect(r.split('; ')).toHaveLength(2);
});

test('savepointOnDisk: file: URIs in both spellings and plain paths are checked; other file systems cannot be', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridflow-sp-'));
  const sp = join(dir, 'savepoint-abc123-0123456789ab');
  mkdirSync(sp);
  expect(savepointOnDisk(`file:${sp}`)).toBe(false);
  writeFileSync(join(sp, '_metadata'), 'x');
  expect(savepointOnDisk(`file:${sp}`)).toBe(true);
  expect(savepointOnDisk(`file://${sp}`)).toBe(true);
  expect(savepointOnDisk(`${sp}/`)).toBe(true);
  expect(savepointOnDisk('s3://bucket/savepoints/savepoint-1')).toBeNull();
  expect(localPath('file:/data/ck/x/')).toBe('/data/ck/x');
  expect(localPath('file:///data/ck/x')).toBe('/data/ck/x');
  expect(localPath('relative/x')).toBeNull();
});
