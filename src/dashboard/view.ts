/**
 * The dashboard's decisions, pure: what a query string may ask for (and the 400 it gets otherwise), how
 * old a number is in words, and the view models the pages draw. No I/O here: the server reads, these
 * decide, the unit tests (test/unit/dashboard/view.test.ts) pin them down. The pages' scripts
 * (src/dashboard/browser) import it too, so that the server and the browser word ages and order the health
 * list alike: esbuild bundles it for the browser, and eslint refuses it any import (no Node built-ins, no I/O).
 */

/** A query parameter the API cannot honour: the server answers 400 with this message. */
export class QueryError extends Error {
  override name = 'QueryError';
}

/** An answer other than 200 with a message: the server sends {error: message} with this status. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type Lang = 'zh' | 'en';

// ---------------------------------------------------------------------------------------------------
// The equipment health list: filter and sort parameters
// ---------------------------------------------------------------------------------------------------

/** Risk levels as the contract writes them (PIPELINE.md), with the English words the API also takes. */
export const RISK_LEVELS = ['告警', '关注', '正常'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];
const RISK_ALIASES: Record<string, RiskLevel> = { alarm: '告警', attention: '关注', normal: '正常' };

/** Sortable columns of ads_equipment_health (the only names that ever reach ORDER BY). */
const HEALTH_SORT_COLUMNS = [
  'health_score',
  'load_ratio',
  'latest_temperature_c',
  'latest_load_mw',
  'rated_capacity_mw',
  'equipment_id',
  'equipment_name',
  'region',
  'equipment_type',
  'risk_level',
  'latest_measured_at',
] as const;
type HealthSortColumn = (typeof HEALTH_SORT_COLUMNS)[number];

export interface HealthQuery {
  region: string | null;
  type: string | null;
  risk: RiskLevel | null;
  sort: HealthSortColumn;
  order: 'asc' | 'desc';
  limit: number;
  offset: number;
}

const HEALTH_DEFAULTS: HealthQuery = { region: null, type: null, risk: null, sort: 'health_score', order: 'asc', limit: 50, offset: 0 };
const HEALTH_MAX_LIMIT = 1000;
const HEALTH_PARAMS = ['region', 'type', 'risk', 'sort', 'order', 'limit', 'offset', 'pipeline'];

/** Parameters an API route takes; any other is refused (a typo must not silently return everything). */
export function rejectUnknownParams(params: URLSearchParams, allowed: readonly string[]): void {
  for (const key of new Set(params.keys())) {
    if (!allowed.includes(key)) throw new QueryError(`unknown query parameter ${JSON.stringify(key)} (allowed: ${allowed.join(', ')})`);
  }
  for (const key of allowed) {
    if (params.getAll(key).length > 1) throw new QueryError(`query parameter ${key} given more than once`);
  }
}

/** A whole number in [min, max] from a query parameter, or the default when absent. */
export function intParam(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new QueryError(`${name} must be a whole number ${min}..${max}, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < min || n > max) throw new QueryError(`${name} must be ${min}..${max}, got ${n}`);
  return n;
}

/** A free-text filter value (a region or type name): trimmed, bounded, no control characters. */
function textParam(params: URLSearchParams, name: string): string | null {
  const raw = params.get(name);
  if (raw === null) return null;
  const value = raw.trim();
  if (value === '') return null;
  if (value.length > 64 || /[\u0000-\u001f]/.test(value)) throw new QueryError(`${name} must be a name of at most 64 characters`);
  return value;
}

/** The order a column sorts in when none is asked for: the worst score and ids and names A→Z first, any other column largest first. */
export function defaultHealthOrder(sort: string): 'asc' | 'desc' {
  return sort === 'health_score' || sort === 'equipment_id' || sort === 'equipment_name' ? 'asc' : 'desc';
}

/** GET /api/grid/health's query string → what to select. Throws QueryError naming the parameter. */
export function parseHealthQuery(params: URLSearchParams): HealthQuery {
  rejectUnknownParams(params, HEALTH_PARAMS);
  const riskRaw = textParam(params, 'risk');
  let risk: RiskLevel | null = null;
  if (riskRaw !== null) {
    risk = (RISK_LEVELS as readonly string[]).includes(riskRaw) ? (riskRaw as RiskLevel) : RISK_ALIASES[riskRaw.toLowerCase()] ?? null;
    if (!risk) throw new QueryError(`risk must be one of ${RISK_LEVELS.join(', ')} (or alarm, attention, normal), got ${JSON.stringify(riskRaw)}`);
  }
  const sortRaw = params.get('sort') || HEALTH_DEFAULTS.sort;
  if (!(HEALTH_SORT_COLUMNS as readonly string[]).includes(sortRaw)) {
    throw new QueryError(`sort must be one of ${HEALTH_SORT_COLUMNS.join(', ')}, got ${JSON.stringify(sortRaw)}`);
  }
  const sort = sortRaw as HealthSortColumn;
  const orderRaw = params.get('order') || defaultHealthOrder(sort);
  if (orderRaw !== 'asc' && orderRaw !== 'desc') throw new QueryError(`order must be asc or desc, got ${JSON.stringify(orderRaw)}`);
  return {
    region: textParam(params, 'region'),
    type: textParam(params, 'type'),
    risk,
    sort,
    order: orderRaw,
    limit: intParam(params, 'limit', HEALTH_DEFAULTS.limit, 1, HEALTH_MAX_LIMIT),
    offset: intParam(params, 'offset', 0, 0, 1_000_000),
  };
}

/**
 * The WHERE and ORDER BY of the health list as SQL with $n parameters: values travel as parameters,
 * the sort column is one of HEALTH_SORT_COLUMNS. NULLs sort last either way; equipment_id breaks ties
 * so that pages never overlap.
 */
export function healthQuerySql(q: HealthQuery, firstParam = 1): { where: string; orderBy: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    clauses.push(sql.replace('?', `$${firstParam + params.length - 1}`));
  };
  if (q.region !== null) add('region = ?', q.region);
  if (q.type !== null) add('equipment_type = ?', q.type);
  if (q.risk !== null) add('risk_level = ?', q.risk);
  const tie = q.sort === 'equipment_id' ? '' : `, equipment_id ${q.order === 'asc' ? 'ASC' : 'DESC'}`;
  return {
    where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '',
    orderBy: `ORDER BY ${q.sort} ${q.order === 'asc' ? 'ASC' : 'DESC'} NULLS LAST${tie}`,
    params,
  };
}

// ---------------------------------------------------------------------------------------------------
// Ages: every number on the page says how old it is
// ---------------------------------------------------------------------------------------------------

/** "刚刚" / "just now", "12 秒前" / "12 s ago", minutes, hours, days. null/undefined: never. */
export function describeAge(ageMs: number | null | undefined, lang: Lang): string {
  if (ageMs === null || ageMs === undefined || !Number.isFinite(ageMs)) return lang === 'zh' ? '无数据' : 'no data';
  // A clock a little ahead of ours (the database's) reads as now, not as "in the future".
  const ms = Math.max(0, ageMs);
  if (ms < 2_000) return lang === 'zh' ? '刚刚' : 'just now';
  const s = Math.floor(ms / 1000);
  if (s < 60) return lang === 'zh' ? `${s} 秒前` : `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return lang === 'zh' ? `${m} 分钟前` : `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return lang === 'zh' ? `${h} 小时前` : `${h} h ago`;
  const d = Math.floor(h / 24);
  return lang === 'zh' ? `${d} 天前` : `${d} days ago`;
}

type AgeLevel = 'fresh' | 'stale' | 'old' | 'none';

/** How an age is coloured: fresh under 30 s, stale under 5 min, old beyond (limits configurable). */
export function ageLevel(ageMs: number | null | undefined, staleMs = 30_000, oldMs = 300_000): AgeLevel {
  if (ageMs === null || ageMs === undefined || !Number.isFinite(ageMs)) return 'none';
  if (ageMs < staleMs) return 'fresh';
  return ageMs < oldMs ? 'stale' : 'old';
}

/** Epoch ms of a Postgres timestamptz text (as connection.ts returns it), or null. */
export function parseTimestamp(text: string | null | undefined): number | null {
  if (text === null || text === undefined) return null;
  // '2026-12-04 15:21:26.123+00' → ISO: space to T, a bare +00 to +00:00.
  const iso = text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

/** Newest of some timestamps (null when none). */
export function newest(times: ReadonlyArray<number | null>): number | null {
  let best: number | null = null;
  for (const t of times) if (t !== null && (best === null || t > best)) best = t;
  return best;
}

// ---------------------------------------------------------------------------------------------------
// View models
// ---------------------------------------------------------------------------------------------------

/** A decimal as Postgres sent it (text) → number for the page; NULL stays null. */
export function num(v: string | number | null | undefined): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

interface GridKpis {
  equipmentTotal: number;
  runningTotal: number;
  installedCapacityMw: number;
  currentLoadMw: number;
  /** current / installed, null when nothing is installed. */
  utilization: number | null;
  alarmCount: number;
  attentionCount: number;
  updatedAt: number | null;
}

export interface GridDashboardRow {
  equipment_total: string;
  running_total: string;
  installed_capacity_mw: string;
  current_load_mw: string;
  alarm_count: string;
  attention_count: string;
  updated_at: string;
}

/** ads_grid_dashboard's one row → the KPI tiles; no row (an empty source) → null, drawn as "no data". */
export function kpiView(row: GridDashboardRow | undefined): GridKpis | null {
  if (!row) return null;
  const installed = num(row.installed_capacity_mw) ?? 0;
  const load = num(row.current_load_mw) ?? 0;
  return {
    equipmentTotal: num(row.equipment_total) ?? 0,
    runningTotal: num(row.running_total) ?? 0,
    installedCapacityMw: installed,
    currentLoadMw: load,
    utilization: installed > 0 ? Math.round((load / installed) * 10_000) / 10_000 : null,
    alarmCount: num(row.alarm_count) ?? 0,
    attentionCount: num(row.attention_count) ?? 0,
    updatedAt: parseTimestamp(row.updated_at),
  };
}

export interface CapacityRow {
  region: string;
  installed_capacity_mw: string;
  current_load_mw: string;
  utilization: string | null;
  headroom_mw: string;
  overload_alert: boolean;
  updated_at: string;
}

interface CapacityRegion {
  region: string;
  installedCapacityMw: number;
  currentLoadMw: number;
  utilization: number | null;
  headroomMw: number;
  overloadAlert: boolean;
  /** The row's level for highlighting: overload (the contract's alert), tight (≥ 70 %), ok, or unknown (nothing installed). */
  level: 'overload' | 'tight' | 'ok' | 'unknown';
  updatedAt: number | null;
}

const TIGHT_UTILIZATION = 0.7;

/** ads_capacity_planning → regions, the overloaded first, then by utilisation (highest first), then name. */
export function capacityView(rows: readonly CapacityRow[]): { regions: CapacityRegion[]; overloaded: number; updatedAt: number | null } {
  const regions = rows.map((r): CapacityRegion => {
    const utilization = num(r.utilization);
    const level = r.overload_alert ? 'overload' : utilization === null ? 'unknown' : utilization >= TIGHT_UTILIZATION ? 'tight' : 'ok';
    return {
      region: r.region,
      installedCapacityMw: num(r.installed_capacity_mw) ?? 0,
      currentLoadMw: num(r.current_load_mw) ?? 0,
      utilization,
      headroomMw: num(r.headroom_mw) ?? 0,
      overloadAlert: r.overload_alert,
      level,
      updatedAt: parseTimestamp(r.updated_at),
    };
  });
  regions.sort(
    (a, b) =>
      Number(b.overloadAlert) - Number(a.overloadAlert) ||
      (b.utilization ?? -1) - (a.utilization ?? -1) ||
      a.region.localeCompare(b.region),
  );
  return { regions, overloaded: regions.filter((r) => r.overloadAlert).length, updatedAt: newest(regions.map((r) => r.updatedAt)) };
}

export interface ProbeLogRow {
  hop: string;
  /** numeric text: seconds after PROBE_EPOCH_S at which the probe was sent. */
  probe_value: string;
  /** Epoch ms (float) when the hop wrote it into the sink. */
  arrived_ms: number;
}

interface FreshnessPoint {
  /** Epoch ms the probe was sent (source clock). */
  sentAt: number;
  /** Epoch ms the last hop that logged it wrote it. */
  arrivedAt: number;
  /** End to end: the slowest hop's arrival minus the sending. */
  latencyMs: number;
  /** How many of the hops logged this very probe (a hop that carried a newer one first may not). */
  hops: number;
}

/** gridflow.probe_log rows → one point per probe, oldest first. */
export function freshnessSeries(rows: readonly ProbeLogRow[], probeEpochS: number): FreshnessPoint[] {
  const byValue = new Map<string, { sentAt: number; arrivedAt: number; hops: number }>();
  for (const r of rows) {
    const sentAt = Math.round((probeEpochS + Number(r.probe_value)) * 1000);
    if (!Number.isFinite(sentAt)) continue;
    const key = String(Number(r.probe_value));
    const p = byValue.get(key);
    const arrivedAt = Math.round(r.arrived_ms);
    if (!p) byValue.set(key, { sentAt, arrivedAt, hops: 1 });
    else byValue.set(key, { sentAt, arrivedAt: Math.max(p.arrivedAt, arrivedAt), hops: p.hops + 1 });
  }
  return [...byValue.values()]
    .map((p) => ({ ...p, latencyMs: Math.max(0, p.arrivedAt - p.sentAt) }))
    .sort((a, b) => a.sentAt - b.sentAt);
}

/** Links into the Temporal UI and the Flink web UI (Flink 1.20's hash routes). */
export function flinkJobLink(flinkUiUrl: string, jobId: string | null): string | null {
  if (!jobId || !/^[0-9a-f]{32}$/.test(jobId)) return null;
  return `${flinkUiUrl.replace(/\/$/, '')}/#/job/running/${jobId}/overview`;
}

export function temporalWorkflowLink(temporalUiUrl: string, namespace: string, workflowId: string): string {
  return `${temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** A pipeline state's colour on the page. */
export function stateLevel(state: string | null): 'ok' | 'busy' | 'bad' | 'idle' | 'unknown' {
  switch (state) {
    case 'RUNNING':
      return 'ok';
    case 'DEPLOYING':
    case 'RECOVERING':
    case 'REDEPLOYING':
    case 'ROLLING_BACK':
    case 'PAUSING':
    case 'RESUMING':
    case 'DECOMMISSIONING':
      return 'busy';
    case 'DEGRADED':
    case 'BLOCKED':
      return 'bad';
    case 'PAUSED':
    case 'DECOMMISSIONED':
      return 'idle';
    default:
      return 'unknown';
  }
}
