/** The pipeline workflow's record activities: one write to the sink's ops schema each, safe to repeat. */
import { Context } from '@temporalio/activity';
import type { SavepointRecord } from '../core/messages';
import { PipelineSpec } from '../core/spec';
import { writeEvent, writeEvents, writeSavepoint } from '../postgres/sink';
import { ActivityDeps } from './context';
import { redact } from '../core/redact';
import { knownSecrets } from '../secrets';
import { classified } from './classify';


export function createRecordActivities(deps: ActivityDeps) {
  const sinkConn = (spec: PipelineSpec) => deps.connection(spec.sink.connection);


  return {

    /**
     * One event in gridflow.events. Its time is when the workflow first scheduled this activity, the
     * same on every retry, so (pipeline, at, kind, message) identifies it and a retry writes nothing new.
     */
    async recordEvent(input: { spec: PipelineSpec; kind: string; message: string }): Promise<void> {
      let at = deps.now();
      try {
        at = Context.current().info.scheduledTimestampMs;
      } catch {
        /* plain call */
      }
      await classified('record event', () =>
        writeEvent(sinkConn(input.spec), { pipeline: input.spec.name, at: new Date(at).toISOString(), kind: input.kind, message: redact(input.message, knownSecrets()) }),
      );
    },

    /** A step's events in one write (times chosen by the workflow, so a retry writes nothing new). */
    async recordEvents(input: { spec: PipelineSpec; events: Array<{ at: number; kind: string; message: string }> }): Promise<{ inserted: number }> {
      return classified('record events', async () => ({
        inserted: await writeEvents(
          sinkConn(input.spec),
          input.spec.name,
          input.events.map((e) => ({ at: new Date(e.at).toISOString(), kind: e.kind, message: redact(e.message, knownSecrets()) })),
        ),
      }));
    },

    async recordSavepoint(input: SavepointRecord): Promise<void> {
      await classified('record savepoint', () =>
        writeSavepoint(sinkConn(input.spec), {
          pipeline: input.spec.name,
          job: input.job,
          path: input.point.path,
          kind: input.point.reason === 'stop' ? 'stop-with-savepoint' : 'savepoint',
          takenAt: new Date(input.point.at).toISOString(),
          ...(/^[0-9a-f]{32}$/.test(input.point.jobId) ? { jobId: input.point.jobId } : {}),
          ...(input.fingerprint ? { fingerprint: input.fingerprint } : {}),
          ...(input.sourcePositions ? { sourcePositions: input.sourcePositions } : {}),
        }),
      );
    },
  };
}
