/**
 * How a lifecycle step speaks: a note for gridflow.events (kept until the step ends, then written in
 * one activity), a savepoint record (kept while the sink cannot take it), a state transition.
 * Workflow code: deterministic, no I/O of its own.
 */
import { log, sleep } from '@temporalio/workflow';
import type { SavepointRecord } from '../core/messages';
import type { PipelineState } from '../core/types';
import { failureMessage } from './failure-message';
import { PATCHES, retired } from './patches';
import type { PipelineModel } from './pipeline-state';
import { record } from './proxies';

/** A note for gridflow.events, written when the step ends (flushEvents: one activity per step). */
export async function event(p: PipelineModel, kind: string, message: string): Promise<void> {
  log.info(`${p.spec.name}: ${kind}: ${message}`);
  retired(PATCHES.batchedEvents);
  p.pendingEvents.push({ at: Date.now(), kind, message });
}

/** Notes kept while the sink cannot take them; beyond this the oldest are dropped (and that is said). */
const MAX_PENDING_EVENTS = 500;

/**
 * Write what a step left to record: savepoint records the sink could not take earlier first (in order;
 * the first that fails keeps the rest), then the step's notes in one activity. A sink that cannot be
 * reached keeps both for the next step.
 */
export async function flushEvents(p: PipelineModel): Promise<void> {
  while (p.s.pendingRecords.length) {
    try {
      await record.recordSavepoint(p.s.pendingRecords[0]);
      p.s.pendingRecords.shift();
    } catch (err) {
      log.warn(`${p.s.pendingRecords.length} savepoint record(s) still not written: ${failureMessage(err)}`);
      break;
    }
  }
  if (p.pendingEvents.length === 0) return;
  const events = p.pendingEvents.splice(0);
  try {
    await record.recordEvents({ spec: p.spec, events });
  } catch (err) {
    log.warn(`could not record ${events.length} event(s): ${failureMessage(err)}`);
    retired(PATCHES.durableRecords);
    const kept = [...events, ...p.pendingEvents];
    const dropped = Math.max(0, kept.length - MAX_PENDING_EVENTS);
    p.pendingEvents = kept.slice(dropped);
    if (dropped) log.warn(`dropped the ${dropped} oldest unrecorded event(s): more than ${MAX_PENDING_EVENTS} wait for the sink`);
  }
}

/**
 * Record a savepoint (the restore point a later workflow resumes from). A sink that cannot take it now
 * keeps it in the workflow, written after the next step (flushEvents) — never silently lost.
 */
export async function keepSavepointRecord(p: PipelineModel, input: SavepointRecord): Promise<void> {
  try {
    await record.recordSavepoint(input);
  } catch (err) {
    log.warn(`savepoint record of ${input.job} not written yet: ${failureMessage(err)}`);
    retired(PATCHES.durableRecords);
    p.s.pendingRecords.push(input);
  }
}

/**
 * Before the workflow ends (decommission): wait for the sink to take what is pending, saying so, for at
 * most `maxWaitMs`. Returns whether everything was written.
 */
export async function drainRecords(p: PipelineModel, maxWaitMs: number): Promise<boolean> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    await flushEvents(p);
    if (!p.s.pendingRecords.length) return true;
    if (Date.now() >= deadline) return false;
    p.setState(p.s.state, `waiting for the sink to record ${p.s.pendingRecords.length} savepoint(s) (what a later deploy resumes from)`);
    await sleep('15s');
  }
}

export async function transition(p: PipelineModel, state: PipelineState, reason: string | null = null): Promise<void> {
  if (p.setState(state, reason)) await event(p, 'state', reason ? `${state}: ${reason}` : state);
}
