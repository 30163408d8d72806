/**
 * A decommission as data: the plan the interpreter runs (src/workflows/lifecycle/decommission.ts
 * performs its steps). Nothing is undone — a decommission must finish — so a step that cannot do its
 * part says so and the next one runs. Pure; no Node built-ins (workflow sandbox).
 */
import { Plan, numbered } from './plans';
import { PipelineSpec } from './spec';

export function planDecommission(spec: PipelineSpec, request: { dropSourceArtifacts: boolean }): Plan {
  return {
    kind: 'decommission',
    steps: numbered([
      { kind: 'stop-all', what: 'stop every job with a savepoint, downstream first (cancel them if a savepoint fails)' },
      {
        kind: 'source-positions',
        what: request.dropSourceArtifacts ? 'replication slot positions: not kept (the slots are dropped)' : 'record where the replication slots stand, so a later deploy can resume',
      },
      {
        kind: 'drop-source',
        what: request.dropSourceArtifacts ? `drop the replication slots and publications of ${spec.name}` : 'keep the replication slots and publications',
      },
      { kind: 'drain-records', what: 'wait (at most 30 min) for the sink to record what a later deploy resumes from' },
    ]),
  };
}
