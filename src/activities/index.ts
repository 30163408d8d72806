/** Every activity the gridflow worker runs. */
import { ActivityDeps, defaultDeps, Provisioner } from './context';
import { createActActivities } from './act';
import { AlertDeps, createAlertActivities } from './alerts';
import { createLagActivities } from './lag';
import { createObserveActivities } from './observe';
import { createRecordActivities } from './record';
import { createRepairActivities } from './repair';
import { createVerifyActivities } from './verify';
import { createVersionActivities } from './versions';
import { createSourceSchemaActivities } from './source-schema';

/** `alertDeps`: the alerts workflow's (a Temporal client for the status query, webhooks); without it, its activities are absent. */
export function createActivities(deps: ActivityDeps, alertDeps?: AlertDeps) {
  return {
    ...(alertDeps ? createAlertActivities(alertDeps) : {}),
    ...createObserveActivities(deps),
    ...createActActivities(deps),
    ...createRecordActivities(deps),
    ...createVerifyActivities(deps),
    ...createLagActivities(deps),
    ...createRepairActivities(deps),
    ...createVersionActivities(deps),
    ...createSourceSchemaActivities(deps),
  };
}

/** Everything the pipeline workflow calls (observe, act, record, and the freshness probe). */
export type PipelineActivities = ReturnType<typeof createObserveActivities> &
  ReturnType<typeof createActActivities> &
  ReturnType<typeof createRecordActivities> &
  ReturnType<typeof createLagActivities> &
  ReturnType<typeof createRepairActivities> &
  ReturnType<typeof createVersionActivities> &
  ReturnType<typeof createSourceSchemaActivities>;
export { defaultDeps };
export type { Provisioner };
