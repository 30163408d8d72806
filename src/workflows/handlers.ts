/**
 * The pipeline workflow's message handlers, as named methods: each says what a message does to the
 * model; the refusals are pure decisions (src/core/requests.ts). pipeline.ts only wires them up.
 * Handlers that move jobs run under the workflow's FIFO lock, through `step`.
 */
import { EndpointForm, JOB_NAMES, parseSpec } from '../core/spec';
import type { DecommissionRequest, RedeployRequest, RepairRequest, SavepointRequest } from '../core/messages';
import { RepairRecord, decideRepair, differenceSentence, foldVerification, repairRefusal } from '../core/repair';
import { rollbackRefusal } from '../core/bluegreen';
import { RequestContext, pauseRefusal, redeployRefusal, resumeRefusal, savepointRefusal, verificationAlerts } from '../core/requests';
import type { PipelineStatus } from '../core/state';
import type { RedeployOutcome, RestorePoint, VerificationSummary } from '../core/types';
import { event, flushEvents, transition } from './events';
import { pause, resume } from './lifecycle/pause';
import { blueGreenRedeploy, rollbackVersion } from './lifecycle/bluegreen';
import { redeploy } from './lifecycle/redeploy';
import { repair } from './lifecycle/repair';
import { savepointNow } from './lifecycle/savepoints';
import { WorkflowLock } from './lock';
import { PATCHES, patch, retired } from './patches';
import type { PipelineModel } from './pipeline-state';

export class PipelineHandlers {
  /** Set by a decommission signal: the main loop wakes up now rather than at its next round. */
  wake = false;

  constructor(
    private readonly p: PipelineModel,
    private readonly lock: WorkflowLock,
  ) {}

  /** A step under the lock; its events are written when it ends, however it ends. */
  step<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return this.lock.run(what, async () => {
      try {
        return await fn();
      } finally {
        await flushEvents(this.p);
        this.p.publish();
      }
    });
  }

  /** No step holds the lock (continue-as-new waits for it). */
  idle(): boolean {
    return this.lock.heldBy === null;
  }

  private context(): RequestContext {
    const p = this.p;
    return { state: p.s.state, decommissioning: p.decommission !== null, redeployingTo: p.redeploying?.toVersion ?? null, spec: p.spec };
  }

  status = (): PipelineStatus => this.p.status();

  validateRedeploy = (request: RedeployRequest): void => {
    const problem = redeployRefusal(this.context(), request);
    if (problem) throw new Error(problem);
  };

  /** Run an accepted request (a repeated request id is a no-op returning the last outcome). */
  redeploy = (request: RedeployRequest): Promise<RedeployOutcome> => {
    const p = this.p;
    if (!p.firstTime(request.requestId)) {
      return Promise.resolve(p.s.lastRedeploy ?? { outcome: 'no-change', fromVersion: p.spec.version, toVersion: p.spec.version, jobs: [] });
    }
    // Set in the handler, not the validator: validators do not run again when history replays. The
    // validator (or the signal's check) has refused a bad spec already; parsed once more here, since a
    // validator's work is not handed to the handler.
    const next = request.spec ? parseSpec(request.spec, 'addresses-too') : p.spec;
    p.redeploying = { toVersion: next.version };
    // As asked; else jobs or a mode mean savepoint restarts; else the spec's redeploy.strategy (blue-green by
    // default). Runs recorded before blue/green existed redeployed with savepoints: they replay so.
    const strategy = request.strategy ?? (request.jobs || request.mode ? 'savepoint' : patch(PATCHES.blueGreen) ? next.redeploy.strategy : 'savepoint');
    if (strategy === 'blue-green') return this.step('redeploy', () => blueGreenRedeploy(p, request, next));
    return this.step('redeploy', () => redeploy(p, request, next));
  };

  validateRollback = (_request: { requestId?: string }): void =>
    refuse(rollbackRefusal({ state: this.p.s.state, busy: this.p.redeploying !== null || this.p.s.repair?.outcome === 'running', parked: this.p.s.parked }));

  /** Readers back to the version the last blue/green switch left, proven equal first (within its rollback window). */
  rollback = (request: { requestId?: string }): Promise<RedeployOutcome> => {
    const p = this.p;
    if (!p.firstTime(request?.requestId)) return Promise.resolve(p.s.lastRedeploy!);
    p.redeploying = { toVersion: p.s.parked!.spec.version };
    return this.step('rollback', () => rollbackVersion(p, request?.requestId ?? null));
  };

  /** The same request as a signal: a refusal cannot reach its sender, so it is recorded where operators look. */
  redeploySignal = async (request: RedeployRequest): Promise<void> => {
    const p = this.p;
    retired(PATCHES.redeployPlan);
    retired(PATCHES.clusterNames);
    const form: EndpointForm = 'names';
    const problem = redeployRefusal(this.context(), request, form);
    if (!problem) {
      await this.redeploy(request);
      return;
    }
    const requestId = typeof request?.requestId === 'string' ? request.requestId : null;
    p.reject(Date.now(), requestId, problem);
    await this.refusedSignal('redeploy', requestId, problem);
  };

  /** A signal refused: the alert and its event, where operators look (the sender cannot be told). */
  private async refusedSignal(what: 'redeploy' | 'repair', requestId: string | null, problem: string): Promise<void> {
    const p = this.p;
    const a = p.alert(Date.now(), `${what}-rejected`, `${what} signal${requestId ? ` ${requestId}` : ''} rejected: ${problem}`);
    p.publish();
    await this.lock.run(`${what}-rejected`, async () => {
      await event(p, 'alert', a.message);
      await flushEvents(p);
    });
  }

  validatePause = (): void => refuse(pauseRefusal(this.context()));
  pause = (): Promise<PipelineStatus> => this.step('pause', () => pause(this.p));

  validateResume = (): void => refuse(resumeRefusal(this.context()));
  resume = (): Promise<PipelineStatus> => this.step('resume', () => resume(this.p));

  validateSavepoint = (request: SavepointRequest): void => refuse(savepointRefusal(this.context(), request));
  savepoint = (request: SavepointRequest): Promise<RestorePoint[]> => this.step('savepoint', () => savepointNow(this.p, request?.jobs ?? [...JOB_NAMES], 'manual'));

  /** Signals cannot be refused; a repeated decommission keeps the first request. */
  decommission = (request: DecommissionRequest): void => {
    this.p.decommission ??= { dropSourceArtifacts: request?.dropSourceArtifacts === true, reason: request?.reason ?? null };
    this.wake = true;
  };

  /** A verification run's result: shown in status; an alert unless the pipeline is expected to fail it (paused, retiring). */
  verification = async (summary: VerificationSummary): Promise<void> => {
    const p = this.p;
    p.s.lastVerification = summary;
    const a = !summary.ok && verificationAlerts(p.s.state) ? p.alert(summary.at, 'verification-failed', summary.summary) : null;
    p.publish();
    if (a) await event(p, 'alert', a.message);
    if (summary.difference && patch(PATCHES.repair)) await this.afterComparison(summary);
  };

  /**
   * What the comparison found: a sink that differs is DEGRADED at once (the watch keeps saying it until a
   * verification finds it equal), and by repair.policy a repair starts — once per difference.
   */
  private async afterComparison(summary: VerificationSummary): Promise<void> {
    const p = this.p;
    // A paused or retiring pipeline's sink is behind on purpose: what a run finds then says nothing.
    if (!verificationAlerts(p.s.state)) return;
    const folded = foldVerification(p.s.sinkDifference, p.s.lastEqualAt, summary);
    p.s.sinkDifference = folded.difference;
    p.s.lastEqualAt = folded.lastEqualAt;
    p.publish();
    const d = p.s.sinkDifference;
    if (!d) return;
    const decide = () =>
      decideRepair({
        policy: p.spec.repair.policy,
        state: p.s.state,
        difference: p.s.sinkDifference,
        last: p.s.repair,
        busy: p.redeploying !== null,
        flussLostData: JOB_NAMES.some((j) => Boolean(p.s.records[j].flussDataLoss)),
      });
    let decision = decide();
    await this.step('sink-difference', async () => {
      if (p.s.state === 'RUNNING') await transition(p, 'DEGRADED', differenceSentence(d, p.s.lastEqualAt));
      if (decision?.kind === 'ask') await event(p, 'repair', decision.why);
    });
    // At most two, by decideRepair: from Fluss, then — if that did not make it equal — from the source.
    for (let i = 0; i < 2 && decision?.kind === 'start'; i++) {
      const { from, why } = decision;
      await this.step('repair', () => repair(p, { from }, 'auto', `${differenceSentence(p.s.sinkDifference ?? d, p.s.lastEqualAt)} (${why})`));
      decision = decide();
    }
  }

  validateRepair = (request: RepairRequest): void => refuse(repairRefusal({ ...this.context(), busy: this.p.redeploying !== null, running: this.p.s.repair }, request));

  /** An operator's repair (a repeated request id returns the last repair). */
  repair = (request: RepairRequest): Promise<RepairRecord> => {
    const p = this.p;
    if (!p.firstTime(request?.requestId) && p.s.repair) return Promise.resolve(p.s.repair);
    const why = request?.reason ?? (p.s.sinkDifference ? differenceSentence(p.s.sinkDifference, p.s.lastEqualAt) : 'asked by an operator');
    return this.step('repair', () => repair(p, request ?? {}, 'operator', why));
  };

  /** The same request as a signal: a refusal is recorded where operators look (events, alerts). */
  repairSignal = async (request: RepairRequest): Promise<void> => {
    const p = this.p;
    const problem = repairRefusal({ ...this.context(), busy: p.redeploying !== null, running: p.s.repair }, request);
    if (!problem) {
      await this.repair(request);
      return;
    }
    await this.refusedSignal('repair', typeof request?.requestId === 'string' ? request.requestId : null, problem);
  };
}

function refuse(problem: string | null): void {
  if (problem) throw new Error(problem);
}
