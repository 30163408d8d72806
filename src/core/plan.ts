/**
 * The job plan: which Flink jobs make the pipeline, in which order they start, and how many task
 * slots they take. Pure functions of the spec, shared by the deploy path and the workflow.
 */
import { jobNameOf } from './versions';
import { JOB_NAMES, JobName, PipelineSpec } from './spec';

/** What each job reads from. A job starts after the jobs it reads from (their tables exist and fill). */
export const JOB_DEPENDENCIES: Readonly<Record<JobName, readonly JobName[]>> = {
  ingest: [],
  dws: ['ingest'],
  ads: ['dws'],
  sink: ['dws', 'ads'],
};

/** Dependency order (stable: ties keep JOB_NAMES order). Throws on a cycle. */
export function jobOrder(deps: Readonly<Record<string, readonly string[]>> = JOB_DEPENDENCIES): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (job: string, trail: string[]) => {
    if (state.get(job) === 'done') return;
    if (state.get(job) === 'visiting') throw new Error(`job dependency cycle: ${[...trail, job].join(' → ')}`);
    state.set(job, 'visiting');
    for (const dep of deps[job] ?? []) {
      if (!(dep in deps)) throw new Error(`job ${job} depends on unknown job ${dep}`);
      visit(dep, [...trail, job]);
    }
    state.set(job, 'done');
    order.push(job);
  };
  for (const job of Object.keys(deps)) visit(job, []);
  return order;
}

export interface PlannedJob {
  job: JobName;
  flinkName: string;
  parallelism: number;
  /** With slot sharing, a job occupies as many slots as its highest operator parallelism. */
  slots: number;
  dependsOn: readonly JobName[];
}

export function planJobs(spec: PipelineSpec): PlannedJob[] {
  return (jobOrder() as JobName[]).map((job) => ({
    job,
    flinkName: jobNameOf(spec, job),
    parallelism: spec.jobs[job].parallelism,
    slots: spec.jobs[job].parallelism,
    dependsOn: JOB_DEPENDENCIES[job],
  }));
}

export function slotsNeeded(spec: PipelineSpec, jobs: readonly JobName[] = JOB_NAMES): number {
  return planJobs(spec)
    .filter((j) => jobs.includes(j.job))
    .reduce((sum, j) => sum + j.slots, 0);
}

/** Order in which to stop jobs: downstream first, so nothing reads from a stopped producer's gap. */
export function stopOrder(jobs: readonly JobName[]): JobName[] {
  const order = jobOrder() as JobName[];
  return order.filter((j) => jobs.includes(j)).reverse();
}
