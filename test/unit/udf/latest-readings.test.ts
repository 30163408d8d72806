/**
 * EQUIPMENT_LATEST's list of the newest readings (sql/udf/gridflow/udf/LatestReadings.java), model-checked
 * in Java against the table itself: thousands of random changelogs of one equipment (inserts in and out
 * of time order, ties, deletes of the latest, updates that move a reading in time, everything deleted),
 * with lookups that see the table as of the change and lookups that see it as of a later change.
 */
import * as fs from 'node:fs';
import { compileJava, runJava } from '../../support/java';

test('the latest reading is right after every change (exact lookups) and converges (later lookups)', () => {
  const classes = compileJava(['sql/udf/gridflow/udf/LatestReadings.java', 'test/java/gridflow/udf/LatestReadingsCheck.java']);
  try {
    const { stdout: text, failed } = runJava(classes, 'gridflow.udf.LatestReadingsCheck', ['3000', '400']);
    if (failed) throw new Error(`model check failed:\n${text}`);
    expect(text).toMatch(/failures 0/);
    // The slow path was exercised, not merely available.
    expect(Number(/lookups (\d+)/.exec(text)?.[1])).toBeGreaterThan(1000);
  } finally {
    fs.rmSync(classes, { recursive: true, force: true });
  }
});
