/**
 * A multi-step change as data: the steps of a plan — forward ones, then the compensations that undo
 * them — each marked as it runs. Pure planners build plans (core/deploy.ts, core/redeploy.ts,
 * core/decommission.ts); one workflow-side interpreter runs any of them (src/workflows/plan-runner.ts),
 * with a table from step kind to what performs it. A new multi-step change adds a planner and step
 * kinds, never another hand-ordered executor. Pure; no Node built-ins (workflow sandbox).
 */
import type { JobName } from './spec';

type PlanKind = 'deploy' | 'redeploy' | 'decommission' | 'repair' | 'blue-green';

/** Every step kind, by the plan that uses it. */
interface StepKinds {
  deploy: 'preflight' | 'claim' | 'adopt' | 'slots' | 'prepare-source' | 'prepare-sink' | 'start-point' | 'tables' | 'submit' | 'await';
  redeploy: 'stop' | 'tables' | 'slots' | 'submit' | 'await' | 'cancel-new' | 'slots-old' | 'restore-old' | 'await-old';
  decommission: 'stop-all' | 'source-positions' | 'drop-source' | 'drain-records';
  'blue-green':
    | 'claim-version'
    | 'prepare-source'
    | 'version-tables'
    | 'tables'
    | 'slots'
    | 'submit'
    | 'await'
    | 'catch-up'
    | 'verify'
    | 'switch'
    | 'stop-old'
    | 'cancel-new'
    | 'drop-new'
    | 'park-again';
  repair:
    | 'claim-shadow'
    | 'stop-all'
    | 'reset-source'
    | 'prepare-source'
    | 'tables'
    | 'submit-upstream'
    | 'shadow-tables'
    | 'shadow-submit'
    | 'shadow-equal'
    | 'shadow-stop'
    | 'live-stop'
    | 'switch'
    | 'live-start'
    | 'prove'
    | 'cleanup'
    | 'cancel-shadow'
    | 'restart-live'
    | 'drop-shadow';
}
export type StepKind = StepKinds[PlanKind];

type StepStatus = 'pending' | 'done' | 'failed' | 'skipped';

export interface PlanStep {
  n: number;
  kind: StepKind;
  job?: JobName;
  /** What the step does, as the operator reads it. */
  what: string;
  /** A compensation: runs only when a forward step failed, in plan order. */
  rollback: boolean;
  status: StepStatus;
  /** The error of a failed step, the detail of a done or skipped one. */
  note?: string;
}

export interface Plan {
  kind?: PlanKind;
  steps: PlanStep[];
}

/** A step as a planner writes it; `n`, `status` and `rollback` are filled in by `numbered`. */
export type StepDraft = Omit<PlanStep, 'n' | 'status' | 'rollback'>;

/** Forward steps, then compensations, numbered from 1, all pending. */
export function numbered(forward: StepDraft[], compensations: StepDraft[] = []): PlanStep[] {
  return [...forward.map((s) => ({ ...s, rollback: false })), ...compensations.map((s) => ({ ...s, rollback: true }))].map(
    (s, i): PlanStep => ({ ...s, n: i + 1, status: 'pending' }),
  );
}

/** The plan with step `n` marked. */
export function markStep<P extends Plan>(plan: P, n: number, status: StepStatus, note?: string): P {
  return { ...plan, steps: plan.steps.map((s) => (s.n === n ? { ...s, status, ...(note === undefined ? {} : { note }) } : s)) };
}

/** The pending steps that will not run: the compensations after a success, the rest of the forward path after a failure. */
export function skipPending<P extends Plan>(plan: P, rollback: boolean, note?: string): P {
  return {
    ...plan,
    steps: plan.steps.map((s) => (s.status === 'pending' && s.rollback === rollback ? { ...s, status: 'skipped', ...(note ? { note } : {}) } : s)),
  };
}

/** Forward steps that completed (the compensations undo only these). */
export function doneSteps(plan: Plan, kind: StepKind): PlanStep[] {
  return plan.steps.filter((s) => !s.rollback && s.kind === kind && s.status === 'done');
}
