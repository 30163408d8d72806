/**
 * The plan interpreter: runs any plan (src/core/plans.ts) the same way. Forward steps in order, each
 * marked done, skipped or failed in the plan as it ends (the plan is in the status before the first
 * step acts, so an operator sees where it is); on the first failure the remaining forward steps are
 * skipped and the compensations run in plan order — each marked, a failed one does not stop the next.
 * What performs a step is a table from step kind to a function (the lifecycle file of each change);
 * the order is the planner's, written once. Workflow code: deterministic, no I/O of its own.
 */
import { Plan, PlanStep, StepKind, markStep, skipPending } from '../core/plans';
import { failureMessage } from './failure-message';

/**
 * What a performer returns: nothing (done), a note for the step, `skip` (nothing to do; the step is
 * marked skipped with the note), or `halt` (the change cannot go on and there is nothing to undo — a
 * deploy BLOCKED on its source: the step is marked failed, the rest skipped, no compensation runs).
 */
export type StepResult = void | { note?: string; skip?: false } | { skip: true; note: string } | { halt: string };

export type Performers = Partial<Record<StepKind, (step: PlanStep) => Promise<StepResult>>>;

interface PlanRun {
  /** The failure that stopped the forward steps (and started the compensations), or null. */
  failure: string | null;
  /** Why the plan halted without failing, or null. */
  halted: string | null;
  /** Notes of the compensations that failed. */
  compensationFailures: string[];
}

/** Where the plan lives while it runs (the model's field, written back after every mark). */
interface PlanSlot<P extends Plan> {
  get(): P;
  set(plan: P): void;
}

export async function runPlan<P extends Plan>(
  slot: PlanSlot<P>,
  perform: Performers,
  hooks: { beforeCompensations?: (failure: string) => Promise<void> } = {},
): Promise<PlanRun> {
  const run: PlanRun = { failure: null, halted: null, compensationFailures: [] };
  const step = async (s: PlanStep): Promise<StepResult> => {
    const fn = perform[s.kind];
    if (!fn) throw new Error(`no performer for step kind ${s.kind} (step ${s.n}: ${s.what})`);
    return fn(s);
  };
  const mark = (s: PlanStep, result: StepResult) => {
    if (result && 'halt' in result) slot.set(markStep(slot.get(), s.n, 'failed', result.halt));
    else if (result && result.skip) slot.set(markStep(slot.get(), s.n, 'skipped', result.note));
    else slot.set(markStep(slot.get(), s.n, 'done', result?.note));
  };

  for (const s of slot.get().steps.filter((x) => !x.rollback)) {
    if (slot.get().steps.find((x) => x.n === s.n)?.status !== 'pending') continue;
    let result: StepResult;
    try {
      result = await step(s);
    } catch (err) {
      run.failure = failureMessage(err);
      slot.set(markStep(slot.get(), s.n, 'failed', run.failure));
      break;
    }
    mark(s, result);
    if (result && 'halt' in result) {
      run.halted = result.halt;
      slot.set(skipPending(skipPending(slot.get(), false, `not run: ${result.halt}`), true));
      return run;
    }
  }
  if (run.failure === null) {
    slot.set(skipPending(slot.get(), true));
    return run;
  }
  slot.set(skipPending(slot.get(), false));
  await hooks.beforeCompensations?.(run.failure);
  for (const s of slot.get().steps.filter((x) => x.rollback)) {
    try {
      mark(s, await step(s));
    } catch (err) {
      const note = failureMessage(err);
      run.compensationFailures.push(note);
      slot.set(markStep(slot.get(), s.n, 'failed', note));
    }
  }
  return run;
}
