/**
 * PipelineSpec: everything that defines one deployed pipeline, validated with zod. It travels through
 * workflow inputs, results and history, so it holds names only: connection names resolve to
 * credentials, and cluster names (`flink: local`, `fluss: local`) to addresses, inside the worker
 * (src/config.ts, src/core/clusters.ts), never here. A spec cannot point the worker — and the
 * passwords it puts into job SQL — at an address the worker was not configured with.
 */
import { z } from 'zod';
import { CLUSTER_NAME, HOST_PORTS, IDENTIFIER } from '../constants';

const identifier = z.string().regex(IDENTIFIER, 'a lower-case identifier: a letter, then letters, digits or _ (at most 63)');

/** Flink-style durations: "500ms", "10s", "5min", "1h" (also "5m"). */
const DURATION = /^(\d+)\s*(ms|s|m|min|h)$/;
const duration = z.string().regex(DURATION, 'a duration such as 500ms, 10s, 5min or 1h');
/** A duration between two bounds (inclusive), said in the message. */
const within = (d: typeof duration, min: string, max: string) =>
  d.refine((v) => !DURATION.test(v.trim()) || (durationMs(v) >= durationMs(min) && durationMs(v) <= durationMs(max)), `between ${min} and ${max}`);

export function durationMs(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text}`);
  const n = Number(m[1]);
  switch (m[2]) {
    case 'ms':
      return n;
    case 's':
      return n * 1000;
    case 'm':
    case 'min':
      return n * 60_000;
    default:
      return n * 3_600_000;
  }
}

/** The jobs of the SGCC warehouse (sql/flink/<job>.sql). */
export const JOB_NAMES = ['ingest', 'dws', 'ads', 'sink'] as const;
export type JobName = (typeof JOB_NAMES)[number];

/**
 * Flink options a job's `config` may not set, each with why: the control plane relies on them, or the
 * warehouse is wrong with them. Keys match exactly, or by prefix when they end in a dot.
 */
const RESERVED_JOB_CONFIG: ReadonlyArray<{ key: string; why: string }> = [
  { key: 'pipeline.name', why: 'gridflow finds its jobs by this name (gridflow/<pipeline>/<job>); another name would make it submit a duplicate' },
  { key: 'parallelism.default', why: 'set jobs.<job>.parallelism instead (the slot count is planned from it)' },
  { key: 'execution.state-recovery.path', why: 'gridflow chooses the restore point of every submission' },
  { key: 'execution.state-recovery.ignore-unclaimed-state', why: 'a restore that drops state it cannot map would lose data silently' },
  { key: 'execution.savepoint.path', why: 'gridflow chooses the restore point of every submission' },
  { key: 'execution.savepoint.ignore-unclaimed-state', why: 'a restore that drops state it cannot map would lose data silently' },
  { key: 'execution.checkpointing.externalized-checkpoint-retention', why: 'the retained checkpoints are what a lost job restarts from' },
  { key: 'execution.checkpointing.dir', why: 'the cluster keeps retained checkpoints where the watch looks for them' },
  { key: 'state.checkpoints.dir', why: 'the cluster keeps retained checkpoints where the watch looks for them' },
  { key: 'execution.checkpointing.savepoint-dir', why: "savepoints go to the pipeline's own folder under savepointDir" },
  { key: 'state.savepoints.dir', why: "savepoints go to the pipeline's own folder under savepointDir" },
  { key: 'execution.state-recovery.claim-mode', why: 'in CLAIM mode Flink may delete the savepoint a rollback restores from' },
  { key: 'execution.savepoint-restore-mode', why: 'in CLAIM mode Flink may delete the savepoint a rollback restores from' },
  { key: 'table.exec.resource.default-parallelism', why: 'set jobs.<job>.parallelism instead (the slot count is planned from it)' },
  { key: 'table.exec.state.ttl', why: 'the aggregates would forget rows and never retract them: the sink would drift from the contract' },
  { key: 'table.local-time-zone', why: 'the sink job writes timestamps in UTC, the zone the JDBC driver reads them in' },
];

function reservedJobConfig(key: string): string | null {
  const hit = RESERVED_JOB_CONFIG.find((r) => (r.key.endsWith('.') ? key.startsWith(r.key) : key === r.key));
  return hit ? hit.why : null;
}

const JobSpec = z
  .object({
    parallelism: z.number().int().min(1).max(64).default(1),
    /** Extra Flink settings for this job only (executionConfig), e.g. table.exec.mini-batch.allow-latency. */
    config: z
      .record(z.string().regex(/^[a-z][a-z0-9.-]*$/, 'a Flink option key'), z.string().max(1000))
      .default({})
      .superRefine((config, ctx) => {
        for (const key of Object.keys(config)) {
          const why = reservedJobConfig(key);
          if (why) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message: `${key} cannot be set here: ${why}` });
        }
      }),
  })
  .strict();
type JobSpec = z.infer<typeof JobSpec>;

/** Why a spec names clusters, not addresses: said with every refusal of an address. */
const ADDRESSES_ELSEWHERE = "addresses live in the worker's configuration (GRIDFLOW_CLUSTERS), so a spec cannot send the pipeline's credentials elsewhere";

/** Why `value` is not a cluster name, or null: an address gets its own sentence (it is the likely mistake). */
function clusterNameProblem(value: unknown): string | null {
  if (value === undefined) return 'required: the name of a cluster configured on the worker (e.g. "local")';
  if (typeof value !== 'string') return `the name of a cluster configured on the worker (e.g. "local"), got ${value === null ? 'null' : typeof value}`;
  if (/[:/]/.test(value)) {
    return `${JSON.stringify(value.slice(0, 80))} is an address; name a cluster configured on the worker instead (e.g. "local"): ${ADDRESSES_ELSEWHERE}`;
  }
  if (!CLUSTER_NAME.test(value)) return `${JSON.stringify(value.slice(0, 80))} is not a cluster name (a lower-case letter, then letters, digits, - or _; at most 63)`;
  return null;
}

/**
 * How a spec says where it runs. `names` is every spec a person or client sends; `addresses-too` only
 * parses the input of workflows started before cluster names (their histories carry addresses): the
 * activities resolve such addresses only when they are a configured cluster's (src/core/clusters.ts).
 */
export type EndpointForm = 'names' | 'addresses-too';

const LEGACY_FLINK = z.object({ restUrl: z.string().url(), gatewayUrl: z.string().url() }).strict();
const LEGACY_FLUSS_BOOTSTRAP = z.string().regex(HOST_PORTS, 'host:port[,host:port...]');

const asObject = (v: unknown): Record<string, unknown> | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

/** The cluster a field names (`local`, or `{ cluster: local }`), or z.NEVER after adding the issue. */
function clusterOf(v: unknown, obj: Record<string, unknown> | null, ctx: z.RefinementCtx): string {
  const name = obj ? obj.cluster : v;
  const problem = clusterNameProblem(name);
  if (!problem) return name as string;
  ctx.addIssue({ code: z.ZodIssueCode.custom, path: obj ? ['cluster'] : [], message: problem });
  return z.NEVER;
}

/** `flink: local` (or `{ cluster: local }`); parsed to `{ cluster }`. */
function flinkField(form: EndpointForm) {
  return z.unknown().transform((v, ctx): { cluster?: string; restUrl?: string; gatewayUrl?: string } => {
    const obj = asObject(v);
    if (obj && ('restUrl' in obj || 'gatewayUrl' in obj)) {
      if (form === 'addresses-too') {
        const legacy = LEGACY_FLINK.safeParse(obj);
        if (legacy.success) return legacy.data;
      }
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `addresses (restUrl, gatewayUrl) do not belong in a spec; name a cluster configured on the worker instead (e.g. flink: local): ${ADDRESSES_ELSEWHERE}` });
      return z.NEVER;
    }
    const extra = obj ? Object.keys(obj).filter((k) => k !== 'cluster') : [];
    if (extra.length) {
      ctx.addIssue({ code: z.ZodIssueCode.unrecognized_keys, keys: extra });
      return z.NEVER;
    }
    return { cluster: clusterOf(v, obj, ctx) };
  });
}

/** `fluss: local`, or `{ cluster: local, database: east }`; parsed to `{ cluster, database? }`. */
function flussField(form: EndpointForm) {
  return z.unknown().transform((v, ctx): { cluster?: string; bootstrap?: string; database?: string } => {
    const obj = asObject(v);
    const extra = obj ? Object.keys(obj).filter((k) => !['cluster', 'database', 'bootstrap'].includes(k)) : [];
    if (extra.length) {
      ctx.addIssue({ code: z.ZodIssueCode.unrecognized_keys, keys: extra });
      return z.NEVER;
    }
    let database: string | undefined;
    if (obj && obj.database !== undefined) {
      const parsed = identifier.safeParse(obj.database);
      if (!parsed.success) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['database'], message: parsed.error.issues[0].message });
        return z.NEVER;
      }
      database = parsed.data;
    }
    if (obj && 'bootstrap' in obj) {
      if (form === 'addresses-too' && !('cluster' in obj)) {
        const legacy = LEGACY_FLUSS_BOOTSTRAP.safeParse(obj.bootstrap);
        if (legacy.success) return { bootstrap: legacy.data, ...(database ? { database } : {}) };
      }
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['bootstrap'], message: `an address does not belong in a spec; name a cluster configured on the worker instead (fluss: { cluster: local }): ${ADDRESSES_ELSEWHERE}` });
      return z.NEVER;
    }
    return { cluster: clusterOf(v, obj, ctx), ...(database ? { database } : {}) };
  });
}

/** The message formats a webhook speaks (src/core/alert-formats.ts). */
const WEBHOOK_FORMATS = ['generic', 'dingtalk', 'wecom', 'feishu'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** Why webhooks are names: said with every refusal of an address. */
const WEBHOOK_ELSEWHERE = "a webhook's URL and token live in the worker's configuration (GRIDFLOW_WEBHOOK_<NAME> or the GRIDFLOW_WEBHOOKS file), never in a spec";

const webhookName = z.unknown().transform((v, ctx): string => {
  if (typeof v === 'string' && /[:/]/.test(v)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(v.slice(0, 40))} is an address; name a webhook configured on the worker instead (e.g. ops): ${WEBHOOK_ELSEWHERE}` });
    return z.NEVER;
  }
  const parsed = identifier.safeParse(v);
  if (!parsed.success) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `a webhook name: ${parsed.error.issues[0].message}` });
    return z.NEVER;
  }
  return parsed.data;
});

/**
 * Alerts (optional): rules over the warehouse and over the pipeline, delivered to webhooks by the
 * pipeline's own AlertsWorkflow (`alerts:<name>`), never by the pipeline workflow itself.
 */
const AlertsSpec = z
  .object({
    webhooks: z
      .array(z.object({ name: webhookName, format: z.enum(WEBHOOK_FORMATS).default('generic') }).strict())
      .min(1, 'name at least one webhook (e.g. [{ name: ops, format: dingtalk }])')
      .max(10)
      .superRefine((hooks, ctx) => {
        const seen = new Set<string>();
        hooks.forEach((h, i) => {
          if (typeof h?.name !== 'string') return;
          if (seen.has(h.name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, 'name'], message: `webhook ${h.name} is named twice` });
          seen.add(h.name);
        });
      }),
    /** How often the rules are evaluated. */
    every: within(duration, '1s', '1h').default('30s'),
    /** A region whose ads_capacity_planning.overload_alert is true. */
    overload: z.boolean().default(true),
    /** An equipment whose ads_equipment_health.risk_level is 告警. */
    equipmentAlarm: z.boolean().default(true),
    /** ads_grid_dashboard.alarm_count above this (absent: off). */
    alarmCountAbove: z.number().int().min(0).optional(),
    /** DEGRADED, BLOCKED, verification failed, falling behind, redeploy rolled back, stateless start. */
    pipeline: z.boolean().default(true),
  })
  .strict();
export type AlertsSpec = z.output<typeof AlertsSpec>;

function specSchema(form: EndpointForm) {
  return z
    .object({
      /** ≤ 36 characters: replication slot names gridflow_<name>_equipment_reading must fit in 63 bytes. */
      name: identifier.refine((n) => n.length <= 36, 'at most 36 characters (replication slot names are built from it)'),
      /** Bumped by the operator for each change; recorded with every deployment and savepoint. */
      version: z.number().int().min(1).default(1),
      /**
       * Managed by gridflow, not the operator: which of the pipeline's versions this spec runs as, and so
       * the names of its slots, Fluss database and jobs (src/core/versions.ts). A blue/green redeploy
       * runs generation n+1 beside n; absent is 0, the names pipelines had before versions.
       */
      generation: z.number().int().min(0).max(9999).optional(),
      source: z
        .object({
          /** Owner/admin of the source tables: preflight, REPLICA IDENTITY, publications, slots. */
          connection: identifier,
          /** The role the CDC connector logs in as (REPLICATION + SELECT), as Flink reaches Postgres. */
          cdcConnection: identifier,
          schema: identifier.default('public'),
        })
        .strict(),
      sink: z
        .object({
          /** The role that owns and writes the sink schemas, as Flink reaches Postgres. */
          connection: identifier,
          /**
           * The schema the warehouse tables live in. Default: `dw` for the contract's pipeline `sgcc`,
           * `dw_<name>` for any other, so two pipelines never write the same tables (OPERATIONS.md).
           */
          schema: identifier.optional(),
        })
        .strict(),
      /** The Fluss cluster (a name the worker maps to its coordinator addresses) and the pipeline's database. */
      fluss: flussField(form),
      /** The Flink cluster: a name the worker maps to its REST and SQL Gateway addresses. */
      flink: flinkField(form),
      jobs: z
        .object({
          ingest: JobSpec.default({}),
          dws: JobSpec.default({}),
          ads: JobSpec.default({}),
          sink: JobSpec.default({}),
        })
        .strict()
        .default({}),
      checkpointInterval: within(duration, '100ms', '1h').default('10s'),
      /** Where savepoints go, as Flink sees it (file://, hdfs://, s3://). */
      savepointDir: z
        .string()
        .regex(/^[a-z0-9]+:\/\/\S+$/, 'a URI such as file:///data/savepoints or s3://bucket/path')
        .refine((u) => (u.startsWith('file:') ? /^file:\/\/\/\S/.test(u) : /^[a-z0-9]+:\/\/[^/\s]+\/?\S*$/.test(u)), 'an absolute URI: file:///an/absolute/path (three slashes), or scheme://bucket/path'),
      savepoints: z
        .object({
          /** Take a savepoint of every job this often (0 / "0s" disables). */
          every: duration.refine((d) => durationMs(d) === 0 || durationMs(d) >= 10_000, '0s (off) or at least 10s').default('30min'),
          /** Keep the newest N periodic savepoints per job; older ones are disposed through Flink. */
          retain: z.number().int().min(1).max(100).default(3),
        })
        .strict()
        .default({}),
      watch: z
        .object({
          interval: within(duration, '100ms', '10min').default('10s'),
          /** More restarts than this within `restartWindow` → DEGRADED. */
          maxRestarts: z.number().int().min(1).max(1000).default(5),
          restartWindow: within(duration, '10s', '24h').default('10min'),
          /** No completed checkpoint for this long while RUNNING → DEGRADED. */
          checkpointStallAfter: within(duration, '1s', '24h').default('2min'),
          /** A (re)submitted job must reach RUNNING within this, else the redeploy rolls back. */
          readinessTimeout: within(duration, '1s', '1h').default('3min'),
          /**
           * The sink further behind than this (by the freshness probe, which travels with the readings)
           * → DEGRADED "falling behind", with the operator Flink shows saturated; verification fails too.
           */
          maxFreshness: within(duration, '1s', '24h').default('30s'),
        })
        .strict()
        .default({}),
      /**
       * How missing task slots are provided: 'local' asks the local stack for another TaskManager;
       * 'none' (a cluster someone else runs) stops with a message saying how many slots are missing.
       */
      provisioner: z.enum(['local', 'none']).default('none'),
      /** Alerts to webhooks (optional; absent: none). */
      alerts: AlertsSpec.optional(),
      /** How `gridflow redeploy` moves the pipeline to a new spec (src/core/bluegreen.ts). */
      redeploy: z
        .object({
          /**
           * savepoint: stop the changed jobs with savepoints and start the new ones from them (readers see no
           * update meanwhile); blue-green: run the whole new version beside the live one, prove it equal to
           * the contract, then switch readers in one transaction.
           */
          strategy: z.enum(['savepoint', 'blue-green']).default('blue-green'),
          /** A new version not caught up and proven equal within this is dropped; readers never saw it. */
          timeout: within(duration, '30s', '6h').default('15min'),
          /** How long the old version is kept after a blue/green switch, for `gridflow rollback`. */
          rollbackWindow: within(duration, '0s', '168h').default('10min'),
        })
        .strict()
        .default({}),
      /** What a verification that finds the sink different from the contract starts (src/core/repair.ts). */
      repair: z
        .object({
          /**
           * auto: rebuild the sink beside the one readers use, switch once it is proven equal (no person);
           * ask: DEGRADED and an alert naming `gridflow repair`; off: the alert only.
           */
          policy: z.enum(['auto', 'ask', 'off']).default('auto'),
          /** A rebuild not proven equal within this stops: DEGRADED with the reason, readers never switched. */
          timeout: within(duration, '30s', '6h').default('15min'),
        })
        .strict()
        .default({}),
    })
    .strict()
    .superRefine((spec, ctx) => {
      // Refinements run even when a field failed already: judge only well-formed durations.
      const ms = (d: string) => (DURATION.test(d.trim()) ? durationMs(d) : NaN);
      if (ms(spec.watch.checkpointStallAfter) <= ms(spec.checkpointInterval)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['watch', 'checkpointStallAfter'],
          message: `${spec.watch.checkpointStallAfter} must be longer than checkpointInterval (${spec.checkpointInterval}), or every pipeline is DEGRADED between two checkpoints`,
        });
      }
      const slots = Object.values(spec.jobs).reduce((n, j) => n + (j?.parallelism ?? 0), 0);
      if (spec.provisioner === 'local' && slots > MAX_LOCAL_SLOTS) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['jobs'],
          message: `the jobs need ${slots} task slots; the local provisioner starts at most ${MAX_LOCAL_SLOTS} on one machine`,
        });
      }
    })
    .transform((spec) => ({
      ...spec,
      sink: { ...spec.sink, schema: spec.sink.schema ?? defaultSinkSchema(spec.name) },
      fluss: { ...spec.fluss, database: spec.fluss.database ?? spec.name },
    }));
}

export const PipelineSpec = specSchema('names');
const PipelineSpecWithAddresses = specSchema('addresses-too');

/** The contract's pipeline, whose names (`dw`, Fluss `sgcc`) ../shared/PIPELINE.md uses. */
const CONTRACT_PIPELINE = 'sgcc';

/** Task slots the local provisioner may start in all (16 TaskManagers of 8 slots). */
const MAX_LOCAL_SLOTS = 128;

function defaultSinkSchema(pipeline: string): string {
  return pipeline === CONTRACT_PIPELINE ? 'dw' : `dw_${pipeline}`;
}

export type PipelineSpec = z.output<typeof PipelineSpec>;
export type PipelineSpecInput = z.input<typeof PipelineSpec>;

export class SpecError extends Error {
  override name = 'SpecError';
}

/** Validate; the error names the first offending field as a sentence. */
export function parseSpec(input: unknown, form: EndpointForm = 'names'): PipelineSpec {
  const result = (form === 'names' ? PipelineSpec : PipelineSpecWithAddresses).safeParse(input);
  if (result.success) return result.data;
  throw new SpecError(describeSpecError(result.error));
}

function describeSpecError(error: z.ZodError): string {
  const issue = error.issues[0];
  const field = issue.path.length ? issue.path.join('.') : '(spec)';
  if (issue.code === 'unrecognized_keys') {
    return `invalid pipeline spec: ${field === '(spec)' ? '' : `${field}: `}unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  }
  return `invalid pipeline spec: ${field}: ${issue.message}`;
}
