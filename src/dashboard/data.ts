/**
 * What the dashboard reads: the sink (as the read-only role) and the pipeline's status query (Temporal).
 * One function per panel, each returning its data with its age: `readAt` (this server's clock) and, for
 * data from the sink, `updatedAt` / `ageMs` by the sink database's own clock (the clock that stamped
 * updated_at), so a skewed server clock cannot make old numbers look new.
 */
import type { Pool, QueryResultRow } from 'pg';
import type { Client } from '@temporalio/client';
import type { GridflowConfig } from '../config';
import { IDENTIFIER, PROBE_EPOCH_S, pipelineWorkflowId } from '../constants';
import type { PipelineStatus } from '../core/state';
import { mapPostgresError } from '../postgres/errors';
import { statusQuery } from '../workflows/definitions';
import {
  HttpError,
  CapacityRow,
  GridDashboardRow,
  HealthQuery,
  ProbeLogRow,
  capacityView,
  freshnessSeries,
  healthQuerySql,
  kpiView,
  newest,
  num,
  parseTimestamp,
} from './view';

/** Where the dashboard reads from: the server's routes (./server), these panels and the scrape (./metrics). */
export interface DashboardDeps {
  config: GridflowConfig;
  /** The sink database, connected as the read-only dashboard role. */
  sink: Pool;
  /** Temporal, for the pipeline's status query; null when it was unreachable at start. */
  temporal: Client | null;
  /** Pipeline names the dashboard shows (the first is the default). */
  pipelines: string[];
  /** Epoch ms now; tests pass a fixed clock. */
  now(): number;
  /** The pipeline's status; default: the status query of its workflow (`workflowId`) through `temporal` (data.ts queryStatus). */
  status?(pipeline: string): Promise<PipelineStatus>;
  /** The pipeline's workflow: the one its status query asks (when `status` is not given) and the Temporal UI link shows; default `pipeline:<name>`. */
  workflowId?(pipeline: string): string;
  /** How often the live stream looks at the sink (default 1000 ms). */
  liveIntervalMs?: number;
  /** Base URLs of the UIs the pipeline page links to; default the local stack's. */
  links?: { temporalUi?: string; flinkUi?: string };
}

async function q<R extends QueryResultRow>(pool: Pool, what: string, sql: string, params: unknown[] = []): Promise<R[]> {
  try {
    return (await pool.query<R>(sql, params)).rows;
  } catch (err) {
    throw mapPostgresError(err, { operation: what });
  }
}

/**
 * The sink schema readers use: the pipeline's first sink-schema claim (gridflow.ownership, made when it
 * was deployed), else what its status says. Claims made later are a repair's working schemas
 * (`<schema>_repair` filling, `<schema>_replaced` holding the old tables: src/core/repair.ts), never
 * what readers should see.
 */
async function sinkSchemaOf(deps: DashboardDeps, pipeline: string): Promise<string> {
  const rows = await q<{ name: string }>(
    deps.sink,
    'find the pipeline\'s sink schema',
    "SELECT name FROM gridflow.ownership WHERE kind = 'sink-schema' AND pipeline = $1 ORDER BY claimed_at, name LIMIT 1",
    [pipeline],
  );
  let schema: string | undefined = rows[0]?.name;
  if (!schema) schema = (await readStatus(deps, pipeline)).status?.outputs?.sinkSchema;
  if (!schema) throw new HttpError(404, `pipeline ${pipeline} has no sink schema yet (not deployed?)`);
  if (!IDENTIFIER.test(schema)) throw new Error(`sink schema ${JSON.stringify(schema)} of pipeline ${pipeline} is not a valid identifier`);
  return `"${schema}"`;
}

/** Age columns computed by the sink's clock. */
const AGE = (col: string) => `(extract(epoch FROM clock_timestamp() - ${col}) * 1000)::float8`;

export async function gridKpis(deps: DashboardDeps, pipeline: string) {
  const s = await sinkSchemaOf(deps, pipeline);
  const rows = await q<GridDashboardRow & { age_ms: number }>(
    deps.sink,
    'read ads_grid_dashboard',
    `SELECT equipment_total, running_total, installed_capacity_mw, current_load_mw, alarm_count, attention_count,
            updated_at::text AS updated_at, ${AGE('updated_at')} AS age_ms
     FROM ${s}.ads_grid_dashboard WHERE dashboard_id = 'grid'`,
  );
  const kpis = kpiView(rows[0]);
  return { pipeline, readAt: deps.now(), updatedAt: kpis?.updatedAt ?? null, ageMs: rows[0] ? Math.round(rows[0].age_ms) : null, kpis };
}

export async function gridCapacity(deps: DashboardDeps, pipeline: string) {
  const s = await sinkSchemaOf(deps, pipeline);
  const rows = await q<CapacityRow & { age_ms: number }>(
    deps.sink,
    'read ads_capacity_planning',
    `SELECT region, installed_capacity_mw, current_load_mw, utilization, headroom_mw, overload_alert,
            updated_at::text AS updated_at, ${AGE('updated_at')} AS age_ms
     FROM ${s}.ads_capacity_planning ORDER BY region`,
  );
  const view = capacityView(rows);
  return { pipeline, readAt: deps.now(), ageMs: minAge(rows), ...view };
}

function minAge(rows: ReadonlyArray<{ age_ms: number }>): number | null {
  return rows.length ? Math.round(Math.min(...rows.map((r) => r.age_ms))) : null;
}

interface HealthRow {
  equipment_id: string;
  equipment_name: string;
  equipment_type: string;
  region: string;
  status: string;
  rated_capacity_mw: string | null;
  latest_load_mw: string | null;
  latest_temperature_c: string | null;
  latest_measured_at: string | null;
  load_ratio: string | null;
  health_score: number;
  risk_level: string;
  updated_at: string;
  age_ms: number;
}

export async function gridHealth(deps: DashboardDeps, pipeline: string, query: HealthQuery) {
  const s = await sinkSchemaOf(deps, pipeline);
  const { where, orderBy, params } = healthQuerySql(query);
  const n = params.length;
  const rows = await q<HealthRow>(
    deps.sink,
    'read ads_equipment_health',
    `SELECT equipment_id, equipment_name, equipment_type, region, status, rated_capacity_mw, latest_load_mw,
            latest_temperature_c, latest_measured_at::text AS latest_measured_at, load_ratio, health_score, risk_level,
            updated_at::text AS updated_at, ${AGE('updated_at')} AS age_ms
     FROM ${s}.ads_equipment_health ${where} ${orderBy} LIMIT $${n + 1} OFFSET $${n + 2}`,
    [...params, query.limit, query.offset],
  );
  // Totals and the filter choices: over the whole table, so the page can say "12 of 300" and offer every region.
  const [totals] = await q<{ total: string; matching: string; newest: string | null; age_ms: number | null; regions: string[] | null; types: string[] | null }>(
    deps.sink,
    'count ads_equipment_health',
    `SELECT count(*)::text AS total, count(*) FILTER (${where || 'WHERE true'})::text AS matching,
            max(updated_at)::text AS newest, ${AGE('max(updated_at)')} AS age_ms,
            array_agg(DISTINCT region ORDER BY region) AS regions, array_agg(DISTINCT equipment_type ORDER BY equipment_type) AS types
     FROM ${s}.ads_equipment_health`,
    params,
  );
  return {
    pipeline,
    readAt: deps.now(),
    // The table's newest write, not only the page's rows: a change elsewhere still makes the list new.
    updatedAt: parseTimestamp(totals.newest),
    ageMs: totals.age_ms === null ? null : Math.round(totals.age_ms),
    query,
    total: Number(totals.total),
    matching: Number(totals.matching),
    regions: totals.regions ?? [],
    types: totals.types ?? [],
    rows: rows.map((r) => ({
      equipmentId: r.equipment_id,
      equipmentName: r.equipment_name,
      equipmentType: r.equipment_type,
      region: r.region,
      status: r.status,
      ratedCapacityMw: num(r.rated_capacity_mw),
      latestLoadMw: num(r.latest_load_mw),
      latestTemperatureC: num(r.latest_temperature_c),
      latestMeasuredAt: parseTimestamp(r.latest_measured_at),
      loadRatio: num(r.load_ratio),
      healthScore: r.health_score,
      riskLevel: r.risk_level,
      updatedAt: parseTimestamp(r.updated_at),
      ageMs: Math.round(r.age_ms),
    })),
  };
}

export async function gridBreakdowns(deps: DashboardDeps, pipeline: string) {
  const s = await sinkSchemaOf(deps, pipeline);
  const byType = await q<{ equipment_type: string; equipment_count: string; running_count: string; total_capacity_mw: string | null; avg_capacity_mw: string | null; updated_at: string; age_ms: number }>(
    deps.sink,
    'read dws_equipment_type_stats',
    `SELECT equipment_type, equipment_count, running_count, total_capacity_mw, avg_capacity_mw, updated_at::text AS updated_at, ${AGE('updated_at')} AS age_ms
     FROM ${s}.dws_equipment_type_stats ORDER BY equipment_type`,
  );
  const byRegion = await q<{ region: string; equipment_count: string; running_count: string; maintenance_count: string; outage_count: string; total_capacity_mw: string | null; updated_at: string; age_ms: number }>(
    deps.sink,
    'read dws_region_stats',
    `SELECT region, equipment_count, running_count, maintenance_count, outage_count, total_capacity_mw, updated_at::text AS updated_at, ${AGE('updated_at')} AS age_ms
     FROM ${s}.dws_region_stats ORDER BY region`,
  );
  const byVoltage = await q<{ voltage_level_kv: number; equipment_count: string; total_capacity_mw: string | null; avg_capacity_mw: string | null; updated_at: string; age_ms: number }>(
    deps.sink,
    'read dws_voltage_level_stats',
    `SELECT voltage_level_kv, equipment_count, total_capacity_mw, avg_capacity_mw, updated_at::text AS updated_at, ${AGE('updated_at')} AS age_ms
     FROM ${s}.dws_voltage_level_stats ORDER BY voltage_level_kv`,
  );
  const all = [...byType, ...byRegion, ...byVoltage];
  const stamp = (r: { updated_at: string; age_ms: number }) => ({ updatedAt: parseTimestamp(r.updated_at), ageMs: Math.round(r.age_ms) });
  return {
    pipeline,
    readAt: deps.now(),
    updatedAt: newest(all.map((r) => parseTimestamp(r.updated_at))),
    ageMs: minAge(all),
    byType: byType.map((r) => ({
      equipmentType: r.equipment_type,
      equipmentCount: Number(r.equipment_count),
      runningCount: Number(r.running_count),
      totalCapacityMw: num(r.total_capacity_mw),
      avgCapacityMw: num(r.avg_capacity_mw),
      ...stamp(r),
    })),
    byRegion: byRegion.map((r) => ({
      region: r.region,
      equipmentCount: Number(r.equipment_count),
      runningCount: Number(r.running_count),
      maintenanceCount: Number(r.maintenance_count),
      outageCount: Number(r.outage_count),
      totalCapacityMw: num(r.total_capacity_mw),
      ...stamp(r),
    })),
    byVoltage: byVoltage.map((r) => ({
      voltageLevelKv: r.voltage_level_kv,
      equipmentCount: Number(r.equipment_count),
      totalCapacityMw: num(r.total_capacity_mw),
      avgCapacityMw: num(r.avg_capacity_mw),
      ...stamp(r),
    })),
  };
}

// ---------------------------------------------------------------------------------------------------
// The pipeline: its status query, freshness, verifications, events
// ---------------------------------------------------------------------------------------------------

interface StatusRead {
  status: PipelineStatus | null;
  /** Epoch ms this server last got an answer (the status's own observedAt says when the workflow looked). */
  readAt: number | null;
  /** Why the latest attempt failed (the status shown is then the last good one, with its age). */
  error: string | null;
}

const lastStatus = new WeakMap<DashboardDeps, Map<string, { status: PipelineStatus; readAt: number }>>();
const STATUS_TIMEOUT_MS = 5_000;

/** The pipeline's workflow: `deps.workflowId` when given (the e2e tests' own ids, another deployment's), else `pipeline:<name>`. */
export function statusWorkflowId(deps: DashboardDeps, pipeline: string): string {
  return deps.workflowId?.(pipeline) ?? pipelineWorkflowId(pipeline);
}

/**
 * One status query, unbounded and uncached: `deps.status` when given, else the query of the pipeline's
 * workflow (statusWorkflowId) through `deps.temporal`. /metrics bounds it with its own read timeout;
 * the pages read it through readStatus.
 */
export async function queryStatus(deps: DashboardDeps, pipeline: string): Promise<PipelineStatus> {
  if (deps.status) return deps.status(pipeline);
  if (!deps.temporal) throw new Error(`Temporal at ${deps.config.temporal.address} was unreachable when the dashboard started`);
  return deps.temporal.workflow.getHandle(statusWorkflowId(deps, pipeline)).query(statusQuery);
}

/**
 * The status for the pages: queryStatus bounded at 5 s. When Temporal or the worker does not answer, the
 * last answer this server got is returned with the error (the page shows it with its age, never as current).
 */
export async function readStatus(deps: DashboardDeps, pipeline: string): Promise<StatusRead> {
  const cache = lastStatus.get(deps) ?? new Map<string, { status: PipelineStatus; readAt: number }>();
  lastStatus.set(deps, cache);
  const previous = cache.get(pipeline);
  let timer: NodeJS.Timeout | undefined;
  try {
    const status = await Promise.race([
      queryStatus(deps, pipeline),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer to the status query within ${STATUS_TIMEOUT_MS / 1000} s: Temporal at ${deps.config.temporal.address} unreachable, or no gridflow worker polling (gridflow worker status)`)), STATUS_TIMEOUT_MS);
      }),
    ]);
    const readAt = deps.now();
    cache.set(pipeline, { status, readAt });
    return { status, readAt, error: null };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { status: previous?.status ?? null, readAt: previous?.readAt ?? null, error: message };
  } finally {
    clearTimeout(timer);
  }
}

export async function pipelineFreshness(deps: DashboardDeps, pipeline: string, minutes: number) {
  const rows = await q<ProbeLogRow>(
    deps.sink,
    'read gridflow.probe_log',
    `SELECT hop, probe_value::text AS probe_value, (extract(epoch FROM arrived_at) * 1000)::float8 AS arrived_ms
     FROM gridflow.probe_log WHERE pipeline = $1 AND arrived_at > clock_timestamp() - make_interval(mins => $2)
     ORDER BY arrived_at`,
    [pipeline, minutes],
  );
  const points = freshnessSeries(rows, PROBE_EPOCH_S);
  const last = points[points.length - 1];
  const [{ age_ms: lastAge }] = last
    ? await q<{ age_ms: number }>(deps.sink, 'age of the newest probe', `SELECT ${AGE('to_timestamp($1 / 1000.0)')} AS age_ms`, [last.arrivedAt])
    : [{ age_ms: null as number | null }];
  return { pipeline, readAt: deps.now(), updatedAt: last?.arrivedAt ?? null, ageMs: lastAge === null ? null : Math.round(lastAge), minutes, points };
}

export async function pipelineVerifications(deps: DashboardDeps, pipeline: string, limit: number) {
  const rows = await q<{ id: string; started_at: string; finished_at: string | null; ok: boolean | null; freshness_ms: number | null; summary: string | null; age_ms: number }>(
    deps.sink,
    'read gridflow.verification_runs',
    `SELECT id, started_at::text AS started_at, finished_at::text AS finished_at, ok, freshness_ms, details->>'summary' AS summary,
            ${AGE('coalesce(finished_at, started_at)')} AS age_ms
     FROM gridflow.verification_runs WHERE pipeline = $1 ORDER BY started_at DESC, id DESC LIMIT $2`,
    [pipeline, limit],
  );
  const runs = rows.map((r) => ({
    id: r.id,
    startedAt: parseTimestamp(r.started_at),
    finishedAt: parseTimestamp(r.finished_at),
    ok: r.ok,
    freshnessMs: r.freshness_ms,
    summary: r.summary,
    ageMs: Math.round(r.age_ms),
  }));
  return { pipeline, readAt: deps.now(), updatedAt: runs[0]?.finishedAt ?? runs[0]?.startedAt ?? null, ageMs: runs[0]?.ageMs ?? null, runs };
}

export async function pipelineEvents(deps: DashboardDeps, pipeline: string, limit: number) {
  const rows = await q<{ id: string; at: string; kind: string; message: string; age_ms: number }>(
    deps.sink,
    'read gridflow.events',
    `SELECT id::text AS id, at::text AS at, kind, message, ${AGE('at')} AS age_ms
     FROM gridflow.events WHERE pipeline = $1 ORDER BY at DESC, id DESC LIMIT $2`,
    [pipeline, limit],
  );
  const events = rows.map((r) => ({ id: r.id, at: parseTimestamp(r.at), kind: r.kind, message: r.message, ageMs: Math.round(r.age_ms) }));
  return { pipeline, readAt: deps.now(), updatedAt: events[0]?.at ?? null, ageMs: events[0]?.ageMs ?? null, events };
}

/**
 * A cheap fingerprint of everything the pages show from the sink: when it changes, the live stream
 * tells the pages to fetch again. Counts as well as times, so a deleted row (a group that emptied) counts.
 */
export async function sinkVersion(deps: DashboardDeps, pipeline: string): Promise<{ version: string; updatedAt: number | null }> {
  const s = await sinkSchemaOf(deps, pipeline);
  const tables = ['dws_equipment_type_stats', 'dws_region_stats', 'dws_voltage_level_stats', 'ads_equipment_health', 'ads_capacity_planning', 'ads_grid_dashboard'];
  const parts = tables.map((t) => `(SELECT coalesce(max(updated_at)::text, '-') || '/' || count(*) FROM ${s}.${t})`);
  const [row] = await q<{ v: string; newest: string | null }>(
    deps.sink,
    'read the sink version',
    `SELECT concat_ws(' ', ${parts.join(', ')},
              (SELECT coalesce(max(id), 0) FROM gridflow.events WHERE pipeline = $1),
              (SELECT count(*) || '/' || count(finished_at) FROM gridflow.verification_runs WHERE pipeline = $1),
              (SELECT coalesce(max(arrived_at)::text, '-') FROM gridflow.probe_log WHERE pipeline = $1)) AS v,
            greatest(${tables.map((t) => `(SELECT max(updated_at) FROM ${s}.${t})`).join(', ')})::text AS newest`,
    [pipeline],
  );
  return { version: row.v, updatedAt: parseTimestamp(row.newest) };
}
