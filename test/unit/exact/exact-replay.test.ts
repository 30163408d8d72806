/**
 * The warehouse's aggregation under restores, model-checked in Java (test/java/gridflow/exact): random
 * source changes (many undone at once), two aggregating jobs in mini-batches of random size, random
 * checkpoints, jobs lost at random moments and restored from any of their retained checkpoints, writes
 * delivered twice. The decision of what to send per key is the code the dws and ads jobs run
 * (sql/exact/gridflow/exact/Emission.java). The sink's last upsert per key must equal the contract.
 */
import * as fs from 'node:fs';
import { compileJava, runJava } from '../../support/java';

let classes: string;

beforeAll(() => {
  classes = compileJava(['sql/exact/gridflow/exact/Emission.java', 'test/java/gridflow/exact/ExactReplayCheck.java']);
});

afterAll(() => fs.rmSync(classes, { recursive: true, force: true }));

function check(rule: string): { failures: number; restores: number; text: string } {
  const text = runJava(classes, 'gridflow.exact.ExactReplayCheck', [rule, '3000', '400']).stdout;
  return {
    failures: Number(/failures (\d+)/.exec(text)?.[1] ?? NaN),
    restores: Number(/(\d+) restores/.exec(text)?.[1] ?? NaN),
    text,
  };
}

test('with the exact rule, every table equals the contract after any restore and replay', () => {
  const result = check('EXACT');
  if (result.failures !== 0) throw new Error(`model check failed:\n${result.text}`);
  expect(result.restores).toBeGreaterThan(10_000);
});

test("the model finds Flink 1.20.3's rule wrong (a change and its undo around a restore stay wrong)", () => {
  // The check can fail: with the rule the dws and ads jobs ran before, it finds the hole.
  const result = check('FLINK_1_20');
  expect(result.failures).toBeGreaterThan(0);
  expect(result.text).toMatch(/FAIL seed \d+ T[12] key/);
});
