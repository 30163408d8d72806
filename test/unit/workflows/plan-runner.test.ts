/**
 * The plan interpreter on its own: forward steps in plan order, each marked; on a failure the rest
 * skipped and the compensations run in order, a failed one not stopping the next; a halt ends the
 * plan with nothing undone; a missing performer is a failure naming the step.
 */
import { Plan, StepKind, numbered } from '../../../src/core/plans';
import { Performers, runPlan } from '../../../src/workflows/plan-runner';

function plan(forward: StepKind[], back: StepKind[] = []): Plan {
  return { steps: numbered(forward.map((kind) => ({ kind, what: kind })), back.map((kind) => ({ kind, what: kind }))) };
}

async function run(p: Plan, perform: Performers, hooks = {}) {
  let current = p;
  const result = await runPlan({ get: () => current, set: (x) => (current = x) }, perform, hooks);
  return { result, marks: current.steps.map((s) => `${s.n} ${s.kind} ${s.status}${s.note ? ` (${s.note})` : ''}`) };
}

test('every forward step runs in order and is marked; the compensations are skipped', async () => {
  const order: string[] = [];
  const step = (name: string) => async () => {
    order.push(name);
    return { note: `${name} ok` };
  };
  const { result, marks } = await run(plan(['stop', 'tables', 'submit'], ['cancel-new']), {
    stop: step('stop'),
    tables: step('tables'),
    submit: step('submit'),
    'cancel-new': step('cancel-new'),
  });
  expect(order).toEqual(['stop', 'tables', 'submit']);
  expect(result).toEqual({ failure: null, halted: null, compensationFailures: [] });
  expect(marks).toEqual(['1 stop done (stop ok)', '2 tables done (tables ok)', '3 submit done (submit ok)', '4 cancel-new skipped']);
});

test('a failure skips the rest, calls the hook, then runs every compensation in order even when one fails', async () => {
  const order: string[] = [];
  const { result, marks } = await run(
    plan(['stop', 'tables', 'submit'], ['cancel-new', 'restore-old', 'await-old']),
    {
      stop: async () => void order.push('stop'),
      tables: async () => {
        order.push('tables');
        throw new Error('Fluss DDL refused');
      },
      submit: async () => void order.push('submit'),
      'cancel-new': async () => {
        order.push('cancel-new');
        return { skip: true, note: 'nothing submitted' };
      },
      'restore-old': async () => {
        order.push('restore-old');
        throw new Error('no slots');
      },
      'await-old': async () => void order.push('await-old'),
    },
    { beforeCompensations: async (why: string) => void order.push(`hook: ${why}`) },
  );
  expect(order).toEqual(['stop', 'tables', 'hook: Fluss DDL refused', 'cancel-new', 'restore-old', 'await-old']);
  expect(result).toEqual({ failure: 'Fluss DDL refused', halted: null, compensationFailures: ['no slots'] });
  expect(marks).toEqual([
    '1 stop done',
    '2 tables failed (Fluss DDL refused)',
    '3 submit skipped',
    '4 cancel-new skipped (nothing submitted)',
    '5 restore-old failed (no slots)',
    '6 await-old done',
  ]);
});

test('a halt ends the plan: the step failed with the reason, the rest not run, nothing undone', async () => {
  const order: string[] = [];
  const { result, marks } = await run(plan(['preflight', 'claim'], ['cancel-new']), {
    preflight: async () => ({ halt: 'wal_level is replica' }),
    claim: async () => void order.push('claim'),
    'cancel-new': async () => void order.push('cancel-new'),
  });
  expect(order).toEqual([]);
  expect(result).toEqual({ failure: null, halted: 'wal_level is replica', compensationFailures: [] });
  expect(marks).toEqual(['1 preflight failed (wal_level is replica)', '2 claim skipped (not run: wal_level is replica)', '3 cancel-new skipped']);
});

test('a step kind without a performer fails the plan, naming the step', async () => {
  const { result } = await run(plan(['preflight', 'claim']), { preflight: async () => undefined });
  expect(result.failure).toBe('no performer for step kind claim (step 2: claim)');
});

test('steps already marked (a plan run again after a crash) are not run twice', async () => {
  const p = plan(['stop', 'tables']);
  p.steps[0].status = 'done';
  const order: string[] = [];
  await run(p, { stop: async () => void order.push('stop'), tables: async () => void order.push('tables') });
  expect(order).toEqual(['tables']);
});
