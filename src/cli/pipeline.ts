/** `gridflow deploy | status | redeploy | rollback | repair | pause | resume | savepoint | decommission` */
import { WorkflowNotFoundError } from '@temporalio/client';
import { GridflowConfig, loadConfig } from '../config';
import { pipelineHandle, startPipeline } from '../client';
import { alertsHandle, startAlerts, stopAlerts } from '../alerts-client';
import { alertsConfigureSignal, alertsWorkflowId } from '../workflows/alerts-definitions';
import { pipelineWorkflowId } from '../constants';
import { JOB_NAMES, JobName, PipelineSpec } from '../core/spec';
import type { PipelineStatus } from '../core/state';
import type { Plan } from '../core/plans';
import type { RedeployOutcome } from '../core/types';
import { OPERATOR_UPGRADE_MODES, UpgradeMode } from '../core/upgrade';
import { REPAIR_SOURCES, RepairFrom, repairSentence } from '../core/repair';
import {
  decommissionSignal,
  pauseUpdate,
  redeployUpdate,
  repairUpdate,
  rollbackUpdate,
  resumeUpdate,
  savepointUpdate,
  statusQuery,
} from '../workflows/definitions';
import { ParsedArgs, UsageError, bind, defineCommand } from './args';
import { PIPELINE_OPTIONS, pipelineName, specFromArgs, temporalClient, temporalUiLink, workerPollers } from './common';
import { Out } from './output';

/** deploy, status, redeploy, …: each a command of its own, their options declared once. */
export const PIPELINE_COMMANDS = defineCommand({
  name: '',
  title: 'operate a pipeline',
  options: {
    spec: PIPELINE_OPTIONS.spec,
    timeout: { type: 'integer', value: 'S', min: 1, default: 600, description: 'seconds to follow the deploy; the workflow goes on after' },
    'no-wait': { type: 'boolean', description: 'return once the workflow has the request, without following it' },
    'restart-workflow': {
      type: 'boolean',
      description: 'replace a stuck workflow (e.g. a nondeterminism error after an upgrade): the new one adopts the running Flink jobs by name',
    },
    mode: { type: 'string', value: 'MODE', choices: OPERATOR_UPGRADE_MODES, defaultText: 'savepoint', description: 'how the jobs move to the new spec' },
    strategy: {
      type: 'string',
      value: 'STRATEGY',
      choices: ['savepoint', 'blue-green'],
      defaultText: "the spec's redeploy.strategy",
      description: 'how the pipeline moves — savepoint restarts the changed jobs from savepoints (readers see no update meanwhile), blue-green runs the whole new version beside the live one and switches readers once it is proven equal',
    },
    jobs: { type: 'string', value: 'JOB[,JOB]', description: `only these jobs, comma-separated (${JOB_NAMES.join(', ')})` },
    'request-id': { type: 'string', value: 'ID', defaultText: 'one per invocation', description: 'names the redeploy or repair: a repeated ID is a no-op' },
    'drop-slots': {
      type: 'boolean',
      description: 'also drop the replication slots and publications: the WAL position is lost, and the next deploy is a fresh start',
    },
    reason: { type: 'string', value: 'TEXT', description: 'why, recorded with the decommission or repair' },
    from: { type: 'string', value: 'LAYER', choices: REPAIR_SOURCES, defaultText: 'ads', description: 'the layer to rebuild from — ads: the sink from Fluss DWS/ADS; source: every layer from a new snapshot, as a new version beside the live one (both: readers served throughout, switched once proven equal; dws and dwd are refused: not built yet)' },
    'dry-run': { type: 'boolean', description: 'show the plan, change nothing' },
    name: PIPELINE_OPTIONS.name,
  },
  subcommands: [
    {
      name: 'deploy',
      summary: "start the pipeline's workflow (or attach to it) and follow it to RUNNING",
      options: ['spec', 'timeout', 'no-wait', 'restart-workflow', 'name'],
    },
    {
      name: 'status',
      summary: "state, each job's Flink id and state, checkpoints, savepoints, alerts; without --name: every deployed pipeline, one line each, then each in full",
      options: ['name'],
    },
    {
      name: 'redeploy',
      summary:
        'move changed (or the named) jobs to the spec; any failure after the first stop rolls back to the running spec ' +
        "(the plan and each step's outcome are in status); a repeated --request-id is a no-op",
      options: ['spec', 'strategy', 'mode', 'jobs', 'request-id', 'name'],
    },
    {
      name: 'rollback',
      summary:
        'after a blue-green redeploy, within its redeploy.rollbackWindow: readers back to the version before, started from its savepoints ' +
        'and proven equal to the contract first; exit 0 when switched',
      options: ['request-id', 'name'],
    },
    {
      name: 'repair',
      summary:
        'rebuild the sink beside the tables readers use and switch readers to it once it is proven equal to the contract ' +
        '(a verification that finds a difference starts this by itself under repair.policy auto); exit 0 when repaired',
      options: ['from', 'dry-run', 'reason', 'request-id', 'name'],
    },
    { name: 'pause', summary: 'stop every job with a savepoint', options: ['name'] },
    { name: 'resume', summary: 'start the paused jobs again from their savepoints', options: ['name'] },
    { name: 'savepoint', summary: 'take savepoints now (of every running job, or of --jobs)', options: ['jobs', 'name'] },
    {
      name: 'decommission',
      summary: 'stop every job with a savepoint and end the workflow; a later deploy of the same spec resumes from those savepoints (unless --drop-slots)',
      options: ['drop-slots', 'reason', 'no-wait', 'name'],
    },
  ],
  notes: 'Specs are JSON or YAML (docs/OPERATIONS.md). A worker must run for anything to happen (`gridflow worker start`).',
  examples: [
    'gridflow deploy --spec pipeline.yaml',
    'gridflow deploy --restart-workflow',
    'gridflow status --name sgcc',
    'gridflow redeploy --spec new.yaml --jobs ads,sink',
    'gridflow redeploy --jobs ads',
    'gridflow redeploy --spec new.yaml --strategy blue-green',
    'gridflow rollback',
    'gridflow repair --dry-run',
    'gridflow repair --from ads --reason "rows changed by hand"',
    'gridflow savepoint --jobs ingest',
    'gridflow decommission --name other --drop-slots --reason "rebuild from the source"',
  ],
});

function redeploySentence(o: RedeployOutcome): string {
  return (
    `redeploy v${o.fromVersion} → v${o.toVersion}: ${o.outcome}${o.strategy === 'blue-green' ? ' (blue-green)' : ''}` +
    (o.jobs.length ? ` (${o.jobs.join(', ')})` : '') +
    (o.downtimeMs !== undefined ? `, downtime ${(o.downtimeMs / 1000).toFixed(1)} s` : '') +
    (o.switchMs !== undefined ? `, readers switched ${(o.switchMs / 1000).toFixed(1)} s after the request` : '') +
    (o.reason ? `\nreason: ${o.reason}` : '')
  );
}

const ago = (now: number, at: number | null | undefined) => {
  if (!at) return '-';
  const s = Math.max(0, Math.round((now - at) / 1000));
  return s < 120 ? `${s}s ago` : `${Math.round(s / 60)}m ago`;
};

export function renderStatus(out: Out, s: PipelineStatus): void {
  if (out.json) {
    out.result(s, '');
    return;
  }
  const now = s.observedAt ?? Date.now();
  out.text(`pipeline ${s.pipeline} v${s.version}: ${s.state}${s.reason ? ` — ${s.reason}` : ''} ${observedLine(s, Date.now())}`);
  out.table(
    s.jobs,
    ['job', 'flink job', 'state', 'checkpoint', 'savepoint', 'restarts', 'last error'],
    (j) => [
      j.job,
      j.jobId ?? '-',
      j.flinkState ?? '-',
      ago(now, j.lastCheckpoint?.at),
      j.lastSavepoint ? `${ago(now, j.lastSavepoint.at)} (${j.lastSavepoint.reason ?? j.lastSavepoint.kind})` : '-',
      String(j.restartsInWindow),
      j.lastError ? j.lastError.slice(0, 80) : '',
    ],
  );
  if (s.freshness) out.text(freshnessLine(s.freshness, Date.now()));
  if (s.lastVerification) {
    const v = s.lastVerification;
    out.text(`last verification: ${v.ok ? 'PASS' : 'FAIL'} ${ago(now, v.at)}, freshness ${v.freshnessMs ?? '-'} ms — ${v.summary.split('\n')[0]}`);
  }
  if (s.lastRedeploy) {
    const r = s.lastRedeploy;
    out.text(`last redeploy: v${r.fromVersion} → v${r.toVersion} ${r.outcome}${r.strategy === 'blue-green' ? ' (blue-green)' : ''}${r.jobs.length ? ` (${r.jobs.join(', ')})` : ''}${r.reason ? `: ${r.reason}` : ''}`);
  }
  const plan = s.redeployPlan;
  if (plan && (s.state === 'REDEPLOYING' || s.state === 'ROLLING_BACK' || (s.lastRedeploy && ['failed', 'rolled-back'].includes(s.lastRedeploy.outcome)))) {
    out.text(`redeploy plan v${plan.fromVersion} → v${plan.toVersion} (${plan.mode})${plan.requestId ? ` request ${plan.requestId}` : ''}:`);
    planSteps(out, plan);
  }
  // A deploy or decommission in progress, or one that stopped on a step: where it is.
  const other = s.plan;
  if (other && (s.state === 'DEPLOYING' || s.state === 'DECOMMISSIONING' || s.state === 'REDEPLOYING' || other.steps.some((x) => x.status === 'failed'))) {
    out.text(`${other.kind ?? 'change'} plan:`);
    planSteps(out, other);
  }
  if (s.generation) out.text(`live version: generation ${s.generation} (Fluss ${s.outputs?.flussDatabase ?? '-'})`);
  if (s.parked) out.text(`parked for gridflow rollback: v${s.parked.version} (generation ${s.parked.generation}) until ${new Date(s.parked.until).toISOString()}`);
  if (s.sinkDifference) out.text(`sink differs from the contract since ${ago(now, s.sinkDifference.since)}: ${s.sinkDifference.rows} row(s) in ${s.sinkDifference.tables.join(', ')}`);
  if (s.lastEqualAt !== undefined) out.text(`sink last proven equal to the contract: ${s.lastEqualAt ? ago(now, s.lastEqualAt) : 'never yet'}`);
  if (s.repair) {
    out.text(repairSentence(s.repair));
    if (s.repair.outcome === 'running' || s.repair.outcome === 'failed' || s.repair.outcome === 'not-equal') planSteps(out, s.repair.plan);
  }
  for (const r of (s.redeployRejections ?? []).slice(0, 3)) out.text(`redeploy rejected ${ago(now, r.at)}${r.requestId ? ` (${r.requestId})` : ''}: ${r.reason}`);
  for (const a of s.alerts.slice(0, 5)) out.text(`alert ${ago(now, a.at)} [${a.kind}] ${a.message.split('\n')[0]}`);
}

/** A plan's steps, one line each (skipped ones left out unless `all`): ✓ done, ✗ failed with why, · pending. */
function planSteps(out: Out, plan: Plan, all = false): void {
  const mark = { pending: '·', done: '✓', failed: '✗', skipped: '-' } as const;
  for (const st of plan.steps.filter((x) => all || x.status !== 'skipped')) {
    out.text(`  ${mark[st.status]} ${st.n}. ${st.rollback ? 'rollback: ' : ''}${st.what}${st.note ? ` — ${st.note.slice(0, 160)}` : ''}`);
  }
}

/** "freshness 1.2 s (measured 4s ago)" — or how long a probe has been on its way, when that is worse. */
function freshnessLine(f: NonNullable<PipelineStatus['freshness']>, now: number): string {
  const age = `measured ${ago(now, f.at)}`;
  if (f.lagMs === null) return `freshness: no probe has come out yet (${age})`;
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const pending = f.pendingForMs !== null && f.pendingForMs >= f.lagMs ? `: a probe sent ${secs(f.pendingForMs)} before has not reached the sink` : '';
  return `freshness ${secs(f.lagMs)}${pending} (${age})`;
}

/** How old the workflow's view of Flink is: a status is only as true as its last observation. */
export function observedLine(s: Pick<PipelineStatus, 'observedAt'>, now: number): string {
  return s.observedAt === null ? '(Flink not observed yet)' : `(Flink observed ${ago(now, s.observedAt)})`;
}

const SETTLED = new Set(['RUNNING', 'DEGRADED', 'BLOCKED', 'PAUSED', 'DECOMMISSIONED']);

/**
 * Whether a status can be reported as the outcome of a deploy. RUNNING must rest on an observation
 * made after `freshSince`: a workflow that outlived a machine restart still says RUNNING from before,
 * until its next look at Flink finds the jobs gone.
 */
export function settledStatus(s: PipelineStatus, freshSince: number): boolean {
  if (!SETTLED.has(s.state)) return false;
  if (s.state !== 'RUNNING') return true;
  return s.jobs.every((j) => j.flinkState === 'RUNNING') && s.observedAt !== null && s.observedAt >= freshSince;
}

/** Print state and job changes until the pipeline settles (or the timeout passes). */
/**
 * Follow a pipeline workflow until it settles (see settledStatus), printing each change. Observations
 * older than a few seconds before the call do not count (clocks of CLI and worker may differ a little).
 */
export async function follow(out: Out, handle: ReturnType<typeof pipelineHandle>, timeoutMs: number): Promise<PipelineStatus> {
  const deadline = Date.now() + timeoutMs;
  const freshSince = Date.now() - 5000;
  let last = '';
  let s: PipelineStatus;
  for (;;) {
    s = await handle.query(statusQuery);
    const stale = s.state === 'RUNNING' && (s.observedAt === null || s.observedAt < freshSince);
    const line =
      `${s.state}${s.reason ? ` (${s.reason})` : ''}: ${s.jobs.map((j) => `${j.job}=${j.flinkState ?? '-'}`).join(' ')}` +
      (stale ? ` — as of ${observedLine(s, Date.now()).slice(1, -1)}; waiting for the workflow's next look` : '');
    if (line !== last) out.progress(line);
    last = line;
    if (settledStatus(s, freshSince)) return s;
    if (Date.now() > deadline) {
      out.progress(`still ${s.state} after ${Math.round(timeoutMs / 1000)} s; the workflow keeps going (gridflow status to check)`);
      return s;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const exitFor = (s: PipelineStatus) => (s.state === 'RUNNING' || s.state === 'PAUSED' || s.state === 'DECOMMISSIONED' ? 0 : 1);

function jobsFlag(args: ParsedArgs): JobName[] | undefined {
  const raw = args.flags.jobs;
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') throw new UsageError('--jobs needs a comma-separated list, e.g. --jobs ads,sink');
  const jobs = raw.split(',').map((j) => j.trim()).filter(Boolean);
  const bad = jobs.filter((j) => !JOB_NAMES.includes(j as JobName));
  if (bad.length) throw new UsageError(`--jobs: unknown job ${bad.join(', ')} (jobs: ${JOB_NAMES.join(', ')})`);
  return jobs as JobName[];
}

async function requireWorker(config: GridflowConfig, client: import('@temporalio/client').Client, out: Out): Promise<void> {
  if ((await workerPollers(client, config.temporal.namespace)).length === 0) {
    out.progress('warning: no worker is polling the gridflow task queue — nothing will happen until one runs: `gridflow worker start`');
  }
}

export async function pipelineCommand(command: string, args: ParsedArgs, out: Out): Promise<number> {
  // Every option and argument is checked before anything connects or starts: a typo, an unknown job or
  // a bad spec answers at once, whether Temporal is up or not. A stray word is a mistake too (a flag's
  // value given to a flag that takes none), never silently ignored.
  const call = bind(PIPELINE_COMMANDS, args);
  if (call.kind === 'help') return out.help(call.text, call.code);
  const config = loadConfig();
  const jobs = jobsFlag(args);
  const mode = call.values.mode as UpgradeMode | undefined;
  const spec = command === 'deploy' || typeof args.flags.spec === 'string' ? specFromArgs(args, config) : undefined;
  const requestId = command === 'redeploy' || command === 'repair' || command === 'rollback' ? requestIdFlag(args) : undefined;
  const strategy = call.values.strategy as 'savepoint' | 'blue-green' | undefined;
  const timeoutMs = call.values.timeout * 1000;
  const { client, close } = await temporalClient(config);
  try {
    const name = pipelineName(args);
    const handle = pipelineHandle(client, name);
    const notRunning = (err: unknown) => {
      if (err instanceof WorkflowNotFoundError) {
        throw new UsageError(`pipeline ${name} is not deployed (no workflow ${pipelineWorkflowId(name)}); deploy it with \`gridflow deploy --name ${name}\``);
      }
      throw err;
    };
    switch (command) {
      case 'deploy': {
        if (!spec) throw new Error('unreachable: deploy always has a spec');
        await requireWorker(config, client, out);
        if (call.values['restart-workflow']) {
          // The Flink jobs keep running; the new workflow finds them by name and adopts them.
          const old = client.workflow.getHandle(pipelineWorkflowId(spec.name));
          const described = await old.describe().catch(() => null);
          if (described?.status.name === 'RUNNING') {
            await old.terminate('gridflow deploy --restart-workflow: replaced by a new workflow that adopts the running jobs');
            out.progress(`terminated workflow ${pipelineWorkflowId(spec.name)} (run ${described.runId}); its Flink jobs keep running`);
          }
        }
        const running = await client.workflow
          .getHandle(pipelineWorkflowId(spec.name))
          .describe()
          .then((d) => d.status.name === 'RUNNING')
          .catch(() => false);
        await startPipeline(client, spec);
        await configureAlerts(client, spec, out);
        if (running) {
          // Attaching never changes what runs: a different spec is a redeploy.
          const current = await pipelineHandle(client, spec.name).query(statusQuery).catch(() => null);
          if (current && current.version !== spec.version) {
            out.progress(`note: the workflow runs v${current.version}; this spec (v${spec.version}) is not applied — use \`gridflow redeploy --spec …\``);
          }
        }
        out.progress(
          `${running ? 'attached to the running' : 'started'} workflow ${pipelineWorkflowId(spec.name)} — follow it in the Temporal UI: ${temporalUiLink(config, pipelineWorkflowId(spec.name))}`,
        );
        if (call.values['no-wait']) return 0;
        const s = await follow(out, pipelineHandle(client, spec.name), timeoutMs);
        renderStatus(out, s);
        return exitFor(s);
      }
      case 'status': {
        if (typeof args.flags.name !== 'string') return await statusOfAll(client, out);
        const s = await handle.query(statusQuery).catch(notRunning);
        renderStatus(out, s);
        return exitFor(s);
      }
      case 'redeploy': {
        out.progress(
          `redeploying ${name}${spec ? ` to v${spec.version}` : ''} (${
            strategy === 'savepoint' || jobs || mode
              ? `savepoint restarts, ${mode ?? 'savepoint'} mode`
              : strategy === 'blue-green'
                ? 'blue-green: the new version beside the live one, readers switched once it is proven equal'
                : "the spec's redeploy.strategy: blue-green unless it says savepoint"
          })…`,
        );
        const outcome = await handle
          .executeUpdate(redeployUpdate, { args: [{ spec, jobs, mode, strategy, requestId }] })
          .catch((err) => notRunning(unwrapUpdate(err)));
        out.result(outcome, redeploySentence(outcome));
        if (spec && outcome.outcome === 'deployed') await configureAlerts(client, spec, out);
        return outcome.outcome === 'deployed' || outcome.outcome === 'no-change' ? 0 : 1;
      }
      case 'rollback': {
        out.progress(`rolling ${name} back to the version before the last blue-green switch (readers stay where they are until it is proven equal)…`);
        const outcome = await handle.executeUpdate(rollbackUpdate, { args: [{ requestId }] }).catch((err) => notRunning(unwrapUpdate(err)));
        out.result(outcome, redeploySentence(outcome));
        return outcome.outcome === 'deployed' ? 0 : 1;
      }
      case 'repair': {
        const from = (call.values.from ?? 'ads') as RepairFrom;
        const dryRun = call.values['dry-run'] === true;
        out.progress(`${dryRun ? 'planning a repair of' : 'repairing'} ${name} from ${from} (the sink keeps serving its current tables meanwhile)…`);
        const r = await handle
          .executeUpdate(repairUpdate, { args: [{ from, dryRun, requestId, reason: call.values.reason }] })
          .catch((err) => notRunning(unwrapUpdate(err)));
        out.result(r, repairSentence(r));
        if (!out.json) planSteps(out, r.plan, dryRun);
        return r.outcome === 'repaired' || r.outcome === 'planned' ? 0 : 1;
      }
      case 'pause':
      case 'resume': {
        out.progress(`${command === 'pause' ? 'pausing (stop with savepoint)' : 'resuming from savepoints'} ${name}…`);
        const s = await handle.executeUpdate(command === 'pause' ? pauseUpdate : resumeUpdate).catch((err) => notRunning(unwrapUpdate(err)));
        renderStatus(out, s);
        return exitFor(s);
      }
      case 'savepoint': {
        const points = await handle.executeUpdate(savepointUpdate, { args: [{ jobs }] }).catch((err) => notRunning(unwrapUpdate(err)));
        out.result(points, points.length ? points.map((p) => `savepoint ${p.path}`).join('\n') : 'no running job to take a savepoint of');
        return 0;
      }
      case 'decommission': {
        await handle
          .signal(decommissionSignal, {
            dropSourceArtifacts: call.values['drop-slots'],
            reason: call.values.reason,
          })
          .catch(notRunning);
        out.progress(`decommissioning ${name}${call.values['drop-slots'] ? ' (and dropping its replication slots and publications)' : ''}…`);
        // The alerts workflow delivers what it still holds, then ends (it also ends on seeing DECOMMISSIONED).
        await stopAlerts(client, name, 'decommissioned').catch((err) => out.progress(`note: could not stop ${alertsWorkflowId(name)}: ${(err as Error).message}`));
        if (call.values['no-wait']) return 0;
        const final = await handle.result();
        renderStatus(out, final);
        return exitFor(final);
      }
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } finally {
    await close();
  }
}

/**
 * Start the pipeline's alerts workflow, or give the running one this spec (its `alerts` rules and webhooks;
 * a spec without `alerts` makes it deliver what waits and end). Never fails the deploy: alerts are beside it.
 */
async function configureAlerts(client: import('@temporalio/client').Client, spec: PipelineSpec, out: Out): Promise<void> {
  try {
    if (spec.alerts) {
      await startAlerts(client, spec);
      out.progress(`alerts: ${alertsWorkflowId(spec.name)} evaluates every ${spec.alerts.every} → ${spec.alerts.webhooks.map((w) => `${w.name} (${w.format})`).join(', ')}`);
    } else {
      await alertsHandle(client, spec.name)
        .signal(alertsConfigureSignal, { spec })
        .catch((err) => {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        });
    }
  } catch (err) {
    out.progress(`warning: alerts not configured (${(err as Error).message}); the pipeline is unaffected — see \`gridflow alerts status\``);
  }
}

/** --request-id, or one per invocation: a retried command is not a second redeploy. */
function requestIdFlag(args: ParsedArgs): string {
  const raw = args.flags['request-id'];
  if (raw === undefined) return `cli-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  if (typeof raw !== 'string' || !/^[A-Za-z0-9._:-]{1,100}$/.test(raw)) throw new UsageError('--request-id needs 1–100 characters of letters, digits and . _ : -');
  return raw;
}

/** `gridflow status` without --name: every pipeline with a running workflow, one line each, then each in full. */
async function statusOfAll(client: import('@temporalio/client').Client, out: Out): Promise<number> {
  const statuses: PipelineStatus[] = [];
  for await (const wf of client.workflow.list({ query: "WorkflowType = 'PipelineWorkflow' AND ExecutionStatus = 'Running'" })) {
    const s = await client.workflow
      .getHandle(wf.workflowId)
      .query(statusQuery)
      .catch(() => null);
    if (s) statuses.push(s);
  }
  statuses.sort((a, b) => a.pipeline.localeCompare(b.pipeline));
  if (out.json) {
    out.result(statuses, '');
  } else if (!statuses.length) {
    out.text('no pipeline is deployed (no running PipelineWorkflow); deploy one with `gridflow deploy`');
  } else {
    out.table(statuses, ['pipeline', 'version', 'state', 'fluss database', 'sink schema', 'observed', 'reason'], (s) => [
      s.pipeline,
      `v${s.version}`,
      s.state,
      s.outputs?.flussDatabase ?? '-',
      s.outputs?.sinkSchema ?? '-',
      ago(Date.now(), s.observedAt),
      (s.reason ?? '').slice(0, 60),
    ]);
    for (const s of statuses) {
      out.text('');
      renderStatus(out, s);
    }
  }
  return statuses.reduce((code, s) => Math.max(code, exitFor(s)), 0);
}

/** An update rejected by the workflow's validator: surface the validator's sentence. */
function unwrapUpdate(err: unknown): unknown {
  let e = err as { cause?: unknown; message?: string } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  if (e && e !== err && e.message) return new UsageError(e.message);
  return err;
}
