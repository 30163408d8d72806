/**
 * The watch and a source schema change (issue 23): a change ingest will fail on makes the pipeline
 * DEGRADED naming it — first among the reasons, since it explains the others — said once as an event;
 * undone, the pipeline is RUNNING again. The judging itself is test/unit/core/source-schema.test.ts; the
 * real DDL is test/e2e/bluegreen.test.ts.
 */
import { ClusterModel, testSpec } from './doubles';
import { running, waitFor, withPipeline } from './harness';

test('a column ingest reads renamed: DEGRADED with the sentence, an event once; renamed back: RUNNING', async () => {
  const model = new ClusterModel();
  await withPipeline(model, testSpec(), async (handle) => {
    await waitFor(handle, 'RUNNING', running);
    const sentence = 'source schema changed: power_equipment.equipment_name (read by ingest as STRING NOT NULL) is gone — dropped or renamed (columns it does not read: name)';
    model.sourceSchema = sentence;
    const s = await waitFor(handle, 'DEGRADED', (x) => x.state === 'DEGRADED');
    expect(s.reason).toBe(sentence);
    // A job failing meanwhile (what the change does to ingest) comes after the cause.
    model.failJob('ingest', 'org.apache.flink.table.api.TableException: Column \'equipment_name\' is NOT NULL, however, a null value is being written into it');
    const both = await waitFor(handle, 'DEGRADED with ingest', (x) => x.state === 'DEGRADED' && (x.reason ?? '').includes('ingest'), 30_000).catch(() => null);
    if (both) expect(both.reason!.startsWith(sentence)).toBe(true);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(model.events.filter((e) => e.kind === 'source-schema' && e.message === sentence)).toHaveLength(1);
    model.sourceSchema = null;
    await waitFor(handle, 'RUNNING again', running, 60_000);
    expect(model.events.some((e) => e.kind === 'source-schema' && /what the warehouse reads again/.test(e.message))).toBe(true);
  });
});
