/**
 * A lost job restores from the newest complete checkpoint of its instance, not only from the one the
 * watch happened to record: an ingest checkpoint older than its replication slot would skip changes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { newestRetainedCheckpoint } from '../../../src/core/watch';
import { newerRetainedCheckpoint } from '../../../src/activities/helpers';

const JOB = '0123456789abcdef0123456789abcdef';
const at = (n: number, dir = `file:/data/ck/${JOB}`) => `${dir}/chk-${n}`;

describe('newestRetainedCheckpoint (pure)', () => {
  const folder = (...entries: Array<[string, boolean]>) => entries.map(([name, complete]) => ({ name, complete }));

  test('the newest complete chk-N after the recorded one', () => {
    expect(newestRetainedCheckpoint(at(12), folder(['chk-12', true], ['chk-13', true], ['chk-14', true], ['shared', false], ['taskowned', false]))).toBe(at(14));
  });

  test('a checkpoint cut short by the failure (no _metadata) is passed over', () => {
    expect(newestRetainedCheckpoint(at(12), folder(['chk-13', true], ['chk-15', false]))).toBe(at(13));
  });

  test('never older than the record, and the record itself when nothing is newer', () => {
    expect(newestRetainedCheckpoint(at(12), folder(['chk-9', true], ['chk-12', true]))).toBe(at(12));
    expect(newestRetainedCheckpoint(at(12), [])).toBe(at(12));
  });

  test('numbers compare as numbers (chk-100 after chk-99)', () => {
    expect(newestRetainedCheckpoint(at(99), folder(['chk-100', true], ['chk-99', true]))).toBe(at(100));
  });

  test('a checkpoint that failed a restore before is not chosen again', () => {
    expect(newestRetainedCheckpoint(at(12), folder(['chk-13', true], ['chk-14', true]), [at(14)])).toBe(at(13));
  });

  test('savepoints and paths outside a job folder are kept as they are', () => {
    expect(newestRetainedCheckpoint('file:/data/sp/savepoint-aaaaaa-0123456789ab', folder(['chk-99', true]))).toBe('file:/data/sp/savepoint-aaaaaa-0123456789ab');
    expect(newestRetainedCheckpoint('file:/data/ck/not-a-job/chk-1', folder(['chk-99', true]))).toBe('file:/data/ck/not-a-job/chk-1');
  });

  test('the recorded scheme and spelling are kept (file:/, file:///, plain)', () => {
    expect(newestRetainedCheckpoint(at(1, `file:///data/ck/${JOB}`), folder(['chk-2', true]))).toBe(`file:///data/ck/${JOB}/chk-2`);
    expect(newestRetainedCheckpoint(at(1, `/data/ck/${JOB}`), folder(['chk-2', true]))).toBe(`/data/ck/${JOB}/chk-2`);
  });
});

describe('newerRetainedCheckpoint (reads the instance folder on disk)', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'gridflow-ck-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const checkpoint = (n: number, complete: boolean) => {
    const dir = path.join(root, JOB, `chk-${n}`);
    mkdirSync(dir, { recursive: true });
    if (complete) writeFileSync(path.join(dir, '_metadata'), 'x');
  };

  test('finds the newest complete checkpoint Flink wrote after the record', () => {
    [5, 6, 7].forEach((n) => checkpoint(n, true));
    checkpoint(8, false);
    mkdirSync(path.join(root, JOB, 'shared'));
    expect(newerRetainedCheckpoint(`file:${root}/${JOB}/chk-5`, [])).toBe(`file:${root}/${JOB}/chk-7`);
  });

  test('an unreadable or missing folder keeps the record', () => {
    expect(newerRetainedCheckpoint(`file:${root}/${JOB}/chk-5`, [])).toBe(`file:${root}/${JOB}/chk-5`);
  });

  test('another file system (s3://) keeps the record', () => {
    expect(newerRetainedCheckpoint(`s3://bucket/ck/${JOB}/chk-5`, [])).toBe(`s3://bucket/ck/${JOB}/chk-5`);
  });
});
