/**
 * EQUIPMENT_LATEST's list of the newest readings (sql/udf/gridflow/udf/LatestReadings.java), model-checked
 * in Java against the table itself: thousands of random changelogs of one equipment (inserts in and out
 * of time order, ties, deletes of the latest, updates that move a reading in time, everything deleted),
 * with lookups that see the table as of the change and lookups that see it as of a later change.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.join(__dirname, '../../..');

test('the latest reading is right after every change (exact lookups) and converges (later lookups)', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-udf-check-'));
  try {
    execFileSync('javac', [
      '--release',
      '17',
      '-d',
      out,
      path.join(root, 'sql/udf/gridflow/udf/LatestReadings.java'),
      path.join(root, 'test/java/gridflow/udf/LatestReadingsCheck.java'),
    ]);
    let text: string;
    try {
      text = execFileSync('java', ['-cp', out, 'gridflow.udf.LatestReadingsCheck', '3000', '400'], { encoding: 'utf8' });
    } catch (err) {
      throw new Error(`model check failed:\n${(err as { stdout?: string }).stdout ?? String(err)}`);
    }
    expect(text).toMatch(/failures 0/);
    // The slow path was exercised, not merely available.
    expect(Number(/lookups (\d+)/.exec(text)?.[1])).toBeGreaterThan(1000);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
