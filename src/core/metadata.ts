/**
 * What the Temporal UI shows at the top of a workflow's page (User Metadata): a one-line summary and
 * static details fixed when the workflow starts, and current details the workflow keeps up to date
 * (setCurrentDetails, served by the __temporal_workflow_metadata query). Short markdown, computed here
 * from plain state and a given clock, so the workflow only calls these and the texts are unit-tested.
 *
 * Ages are relative to `now`, the workflow's time when the text was made ("as of <ISO time>"): the UI
 * shows the text as it was written, so a live counter would be wrong a minute later.
 */
import { repairSentence } from './repair';
import type { PipelineSpec } from './spec';
import type { PipelineStatus } from './state';
import type { VerificationResult } from './verify';
import { flussDatabaseOf } from './versions';

/** A line the UI shows whole: longer texts (verification summaries, Flink errors) are cut here. */
const MAX_LINE = 200;

const cut = (text: string, max = MAX_LINE): string => {
  const line = text.split('\n')[0];
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

/**
 * UI 2.42 sizes each metadata pane to its text's body.scrollHeight, leaving out the body's margins: the
 * last ~30 px are cut off. A closing line that may be cut keeps every fact above it in view.
 */
const FOOTER = '*All of it, and more: the `status` query.*';

/** Markdown would read `*`, `_`, `|`, `` ` `` and brackets in job errors and reasons as markup. */
const plain = (text: string): string => text.replace(/([\\`*_[\]|<>#])/g, '\\$1');

/** "4 s", "3 min", "2 h", "5 d" — how long before `now` (never negative: clocks of activities differ slightly). */
export function age(now: number, at: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 120) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 120) return `${min} min`;
  const h = Math.round(min / 60);
  return h < 48 ? `${h} h` : `${Math.round(h / 24)} d`;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Start options for a pipeline workflow: `{ staticSummary, staticDetails }` (client.workflow.start). */
export function pipelineStartMetadata(spec: PipelineSpec): { staticSummary: string; staticDetails: string } {
  return {
    // Fixed for the run: the version it was started with. The current version heads the current details.
    staticSummary: `pipeline ${spec.name}, spec version ${spec.version} at start`,
    staticDetails: [
      `Outputs: Fluss database \`${flussDatabaseOf(spec)}\`, sink schema \`${spec.sink.schema}\`; watched every ${spec.watch.interval}.`,
      '',
      'Redeploy from here: *Send a Signal* or *Send an Update* named `redeploy` with input `{"requestId": "<new id>", "jobs": ["sink"]}` ' +
        "(without `jobs`: every job). An update answers with the outcome; a signal's outcome or rejection shows in the current details.",
      '',
      `*The same from a shell: \`gridflow status --name ${spec.name}\`, \`gridflow redeploy\`.*`,
    ].join('\n'),
  };
}

/**
 * The pipeline workflow's current details: state and reason, each job, freshness, the last
 * verification, redeploy and alert, with their ages as of `now` (workflow time).
 */
export function pipelineCurrentDetails(s: PipelineStatus, now: number): string {
  // The UI renders with gomarkdown (ui-server's /render): lines of a paragraph run together and a list
  // needs a blank line before it, so everything below the headline (and the reason) is one list.
  const lines: string[] = [`**${s.state}** · pipeline ${s.pipeline} spec version ${s.version} · as of ${new Date(now).toISOString()}`, ''];
  if (s.reason) lines.push(`Reason: ${plain(cut(s.reason))}`, '');
  for (const j of s.jobs) {
    const parts = [j.flinkState ?? 'not submitted'];
    if (j.lastCheckpoint) parts.push(`checkpoint ${age(now, j.lastCheckpoint.at)} old`);
    if (j.restartsInWindow > 0) parts.push(`${j.restartsInWindow} restart${j.restartsInWindow === 1 ? '' : 's'} lately`);
    if (j.lastError) parts.push(`last error: ${plain(cut(j.lastError, 120))}`);
    lines.push(`- job ${j.job}: ${parts.join(', ')}`);
  }
  const f = s.freshness;
  if (!f) lines.push('- freshness: not measured yet');
  else if (f.lagMs === null) lines.push(`- freshness: no probe has come out yet (measured ${age(now, f.at)} ago)`);
  else lines.push(`- freshness: ${seconds(f.lagMs)} behind (measured ${age(now, f.at)} ago)`);
  const v = s.lastVerification;
  lines.push(v ? `- last verification: **${v.ok ? 'PASS' : 'FAIL'}** ${age(now, v.at)} ago — ${plain(cut(v.summary))}` : '- last verification: none yet');
  if (s.sinkDifference) lines.push(`- sink: **differs** in ${s.sinkDifference.tables.join(', ')} since ${age(now, s.sinkDifference.since)} ago`);
  if (s.lastEqualAt) lines.push(`- sink last proven equal to the contract ${age(now, s.lastEqualAt)} ago`);
  const rep = s.repair;
  if (rep) lines.push(`- repair: ${plain(cut(repairSentence(rep)))}`);
  const r = s.lastRedeploy;
  if (r) lines.push(`- last redeploy: v${r.fromVersion} → v${r.toVersion} **${r.outcome}**${r.jobs.length ? ` (${r.jobs.join(', ')})` : ''}${r.reason ? ` — ${plain(cut(r.reason))}` : ''}`);
  const rejected = s.redeployRejections?.[0];
  if (rejected) lines.push(`- last rejected redeploy${rejected.requestId ? ` ${plain(rejected.requestId)}` : ''}: ${age(now, rejected.at)} ago — ${plain(cut(rejected.reason))}`);
  const a = s.alerts[0];
  if (a) lines.push(`- last alert: ${age(now, a.at)} ago, ${a.kind}: ${plain(cut(a.message))}`);
  lines.push('', FOOTER);
  return lines.join('\n');
}

/** Start options for a verification run of a pipeline (`gridflow verify now` and the schedule). */
export function verificationStartMetadata(spec: PipelineSpec): { staticSummary: string } {
  return { staticSummary: `verification of pipeline ${spec.name} (spec version ${spec.version})` };
}

/** A verification run's current details while it runs: what it is doing since when. */
export function verificationProgressDetails(pipeline: string, step: string, now: number): string {
  return `**RUNNING** · verification of pipeline ${pipeline} · as of ${new Date(now).toISOString()}\n\n${step}`;
}

/** A verification run's result, the way the pipeline's current details read (as of `now`, the run's end). */
export function verificationCurrentDetails(r: VerificationResult, now: number): string {
  const lines = [`**${r.ok ? 'PASS' : 'FAIL'}** · verification of pipeline ${r.pipeline} · as of ${new Date(now).toISOString()}`, ''];
  const f = r.freshness;
  lines.push(
    `- freshness: ${
      f.freshnessMs !== null ? `${seconds(f.freshnessMs)} (limit ${seconds(f.limitMs)})` : f.error ? `not measured — ${plain(cut(f.error, 120))}` : 'the probe did not arrive'
    }`,
  );
  const c = r.compare;
  const equal = c.tables.filter((t) => t.missing.count + t.extra.count + t.different.cells + (t.stale?.count ?? 0) === 0).length;
  lines.push(
    `- contract: ${
      c.error !== null ? `not compared — ${plain(cut(c.error, 120))}` : `${equal} of ${c.tables.length} sink tables equal${c.consistent ? '' : `, ${c.moving} ${c.cutMs === undefined ? 'cells' : 'keys'} in flight`} (${c.attempts} attempt${c.attempts === 1 ? '' : 's'})`
    }`,
  );
  const rep = r.replication;
  lines.push(`- replication: ${rep.error !== null ? `not checked — ${plain(cut(rep.error, 120))}` : rep.ok ? `${rep.slots.length} slots healthy` : `${rep.problems.length} problem(s)`}`);
  lines.push(`- pipeline workflow ${r.signal.delivered ? 'told' : 'not told'}; run ${r.recorded ? '' : 'not '}recorded`);
  lines.push('', plain(cut(r.summary, 400)), '', '*Everything the run found: its result, and `gridflow verify history`.*');
  return lines.join('\n');
}
