/** Every activity the gridflow worker runs. */
import { ActivityDeps, defaultDeps, Provisioner } from './context';
import { createLagActivities } from './lag';
import { createPipelineActivities } from './pipeline';
import { createVerifyActivities } from './verify';

export function createActivities(deps: ActivityDeps) {
  return { ...createPipelineActivities(deps), ...createVerifyActivities(deps), ...createLagActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
export { defaultDeps };
export type { ActivityDeps, Provisioner };
