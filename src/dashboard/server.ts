/**
 * The dashboard's web server: node:http and a small route table. Every panel has a JSON route under
 * /api (docs/DASHBOARD.md); the two pages are static files whose scripts (./browser, bundled by ./bundle)
 * fetch them, and /api/live is a server-sent-event stream that says when the sink changed so the pages
 * fetch again without a reload.
 * `/metrics` is the Prometheus scrape (./metrics). Data sources come in as `DashboardDeps` so that
 * tests and the CLI pass their own.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { repoRoot } from '../config';
import {
  DashboardDeps,
  gridBreakdowns,
  gridCapacity,
  gridHealth,
  gridKpis,
  pipelineEvents,
  pipelineFreshness,
  pipelineVerifications,
  readStatus,
  sinkVersion,
  statusWorkflowId,
} from './data';
import { repairSentence } from '../core/repair';
import { PAGE_SCRIPTS, pageScripts } from './bundle';
import { HttpError, QueryError, flinkJobLink, intParam, parseHealthQuery, rejectUnknownParams, stateLevel, temporalWorkflowLink } from './view';

interface RouteResult {
  status?: number;
  contentType: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

type Handler = (req: http.IncomingMessage, url: URL, res: http.ServerResponse) => Promise<RouteResult | 'streamed'>;

interface DashboardOptions {
  host: string;
  port: number;
  deps: DashboardDeps;
  /** Extra routes (path → handler), merged over the built-in ones. */
  routes?: Record<string, Handler>;
}

export interface DashboardServer {
  url: string;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const json = (body: unknown): RouteResult => ({ contentType: JSON_TYPE, body: JSON.stringify(body) });

/** The pages, their stylesheet and ECharts, read from disk on each request; the pages' scripts are built (./bundle). */
function staticFiles(): Record<string, { file: string; type: string }> {
  const dir = path.join(repoRoot(), 'src', 'dashboard', 'static');
  const echarts = path.join(path.dirname(require.resolve('echarts/package.json')), 'dist', 'echarts.min.js');
  return {
    '/': { file: path.join(dir, 'grid.html'), type: 'text/html; charset=utf-8' },
    '/grid': { file: path.join(dir, 'grid.html'), type: 'text/html; charset=utf-8' },
    '/pipeline': { file: path.join(dir, 'pipeline.html'), type: 'text/html; charset=utf-8' },
    '/static/dashboard.css': { file: path.join(dir, 'dashboard.css'), type: 'text/css; charset=utf-8' },
    '/vendor/echarts.min.js': { file: echarts, type: 'text/javascript; charset=utf-8' },
  };
}

/** ?pipeline= (one of deps.pipelines; default the first). */
function pipelineParam(deps: DashboardDeps, url: URL): string {
  const name = url.searchParams.get('pipeline');
  if (name === null || name === '') return deps.pipelines[0];
  if (!deps.pipelines.includes(name)) throw new QueryError(`pipeline must be one of ${deps.pipelines.join(', ')}, got ${JSON.stringify(name)}`);
  return name;
}

function uiLinks(deps: DashboardDeps): { temporalUi: string; flinkUi: string } {
  const { config } = deps;
  const [host] = config.temporal.address.split(':');
  return {
    temporalUi: deps.links?.temporalUi ?? `http://${host}:${config.stack.ports.temporalUi}`,
    flinkUi: deps.links?.flinkUi ?? config.flink.restUrl,
  };
}

/** GET /api/pipeline's answer (the pipeline page's types, src/dashboard/browser, are these). */
export type PipelineView = Awaited<ReturnType<typeof pipelineView>>;

async function pipelineView(deps: DashboardDeps, pipeline: string) {
  const read = await readStatus(deps, pipeline);
  const links = uiLinks(deps);
  const workflowId = statusWorkflowId(deps, pipeline);
  const s = read.status;
  const now = deps.now();
  return {
    pipeline,
    readAt: read.readAt,
    error: read.error,
    // The workflow's own observation is what the state describes: its age is the status's age.
    updatedAt: s?.observedAt ?? null,
    ageMs: s?.observedAt ? now - s.observedAt : null,
    links: { temporalWorkflow: temporalWorkflowLink(links.temporalUi, deps.config.temporal.namespace, workflowId), flinkUi: links.flinkUi },
    status: s && {
      state: s.state,
      level: stateLevel(s.state),
      reason: s.reason,
      version: s.version,
      observedAt: s.observedAt,
      freshness: s.freshness ?? null,
      lastVerification: s.lastVerification,
      // Whether the sink equals the contract (and since when it was last proven), and the last repair.
      sinkDifference: s.sinkDifference ? { ...s.sinkDifference, ageMs: now - s.sinkDifference.since } : null,
      lastEqual: s.lastEqualAt ? { at: s.lastEqualAt, ageMs: now - s.lastEqualAt } : null,
      repair: s.repair ? { id: s.repair.id, outcome: s.repair.outcome, sentence: repairSentence(s.repair) } : null,
      alerts: [...s.alerts].sort((a, b) => b.at - a.at).map((a) => ({ ...a, ageMs: now - a.at })),
      jobs: s.jobs.map((j) => ({
        job: j.job,
        flinkName: j.flinkName,
        jobId: j.jobId,
        flinkState: j.flinkState,
        flinkLink: flinkJobLink(links.flinkUi, j.jobId),
        lastCheckpoint: j.lastCheckpoint && { ...j.lastCheckpoint, ageMs: now - j.lastCheckpoint.at },
        lastSavepoint: j.lastSavepoint && { ...j.lastSavepoint, ageMs: now - j.lastSavepoint.at },
        restoredFrom: j.restoredFrom,
        restartsInWindow: j.restartsInWindow,
        lastError: j.lastError,
      })),
    },
  };
}

function dashboardRoutes(deps: DashboardDeps): Record<string, Handler> {
  const live = new LiveHub(deps);
  const routes: Record<string, Handler> = {
    '/healthz': async () => json({ ok: true, at: deps.now() }),
    '/favicon.ico': async () => ({ status: 204, contentType: 'image/x-icon', body: '' }),
    '/metrics': async () => {
      const { renderMetrics } = await import('./metrics');
      const { contentType, body } = await renderMetrics(deps);
      return { contentType, body };
    },
    '/api/meta': async (_req, url) => {
      rejectUnknownParams(url.searchParams, []);
      return json({ pipelines: deps.pipelines, links: uiLinks(deps), readAt: deps.now() });
    },
    '/api/grid/kpi': async (_req, url) => {
      rejectUnknownParams(url.searchParams, ['pipeline']);
      return json(await gridKpis(deps, pipelineParam(deps, url)));
    },
    '/api/grid/capacity': async (_req, url) => {
      rejectUnknownParams(url.searchParams, ['pipeline']);
      return json(await gridCapacity(deps, pipelineParam(deps, url)));
    },
    '/api/grid/health': async (_req, url) => {
      const query = parseHealthQuery(url.searchParams);
      return json(await gridHealth(deps, pipelineParam(deps, url), query));
    },
    '/api/grid/breakdowns': async (_req, url) => {
      rejectUnknownParams(url.searchParams, ['pipeline']);
      return json(await gridBreakdowns(deps, pipelineParam(deps, url)));
    },
    '/api/pipeline': async (_req, url) => {
      rejectUnknownParams(url.searchParams, ['pipeline']);
      return json(await pipelineView(deps, pipelineParam(deps, url)));
    },
    '/api/pipeline/freshness': async (_req, url) => {
      rejectUnknownParams(url.searchParams, ['pipeline', 'minutes']);
      return json(await pipelineFreshness(deps, pipelineParam(deps, url), intParam(url.searchParams, 'minutes', 60, 1, 1440)));
    },
    '/api/pipeline/verifications': async (_req, url) => {
      rejectUnknownParams(url.searchParams, ['pipeline', 'limit']);
      return json(await pipelineVerifications(deps, pipelineParam(deps, url), intParam(url.searchParams, 'limit', 10, 1, 200)));
    },
    '/api/pipeline/events': async (_req, url) => {
      rejectUnknownParams(url.searchParams, ['pipeline', 'limit']);
      return json(await pipelineEvents(deps, pipelineParam(deps, url), intParam(url.searchParams, 'limit', 30, 1, 500)));
    },
    '/api/live': async (req, url, res) => {
      rejectUnknownParams(url.searchParams, ['pipeline']);
      live.subscribe(pipelineParam(deps, url), req, res);
      return 'streamed';
    },
  };
  for (const [route, { file, type }] of Object.entries(staticFiles())) {
    routes[route] = async (_req, url) => {
      if (!route.startsWith('/vendor/') && !route.startsWith('/static/')) rejectUnknownParams(url.searchParams, ['pipeline', 'lang']);
      return { contentType: type, body: await fs.promises.readFile(file) };
    };
  }
  for (const name of PAGE_SCRIPTS) {
    routes[`/static/${name}.js`] = async () => ({ contentType: 'text/javascript; charset=utf-8', body: (await pageScripts())[name] });
  }
  return routes;
}

/** The data of the live stream's `change` and `tick` events. */
export interface LiveMessage {
  pipeline: string;
  /** This server's clock. */
  readAt: number;
  /** The newest write the pages show, by the sink's clock. */
  updatedAt: number | null;
  /** A fingerprint of the sink: a new one is a `change`. */
  version: string;
}

/**
 * The live stream: one poll of the sink's version per pipeline per interval while anyone listens, and a
 * `change` event to every listener when it moved. A `tick` each interval carries the server's clock and
 * the data's age, so the page's "updated N s ago" keeps counting even when nothing changes.
 */
class LiveHub {
  private readonly listeners = new Map<string, Set<http.ServerResponse>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly versions = new Map<string, string>();

  constructor(private readonly deps: DashboardDeps) {}

  subscribe(pipeline: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    const set = this.listeners.get(pipeline) ?? new Set();
    set.add(res);
    this.listeners.set(pipeline, set);
    req.on('close', () => {
      set.delete(res);
      if (set.size === 0) this.stop(pipeline);
    });
    if (!this.timers.has(pipeline)) this.schedule(pipeline, 0);
  }

  private schedule(pipeline: string, delayMs: number): void {
    this.timers.set(
      pipeline,
      setTimeout(() => void this.poll(pipeline), delayMs),
    );
  }

  private stop(pipeline: string): void {
    clearTimeout(this.timers.get(pipeline));
    this.timers.delete(pipeline);
    this.listeners.delete(pipeline);
    this.versions.delete(pipeline);
  }

  private async poll(pipeline: string): Promise<void> {
    const set = this.listeners.get(pipeline);
    if (!set || set.size === 0) return;
    let message: string;
    try {
      const v = await sinkVersion(this.deps, pipeline);
      const changed = this.versions.get(pipeline) !== v.version;
      this.versions.set(pipeline, v.version);
      const data: LiveMessage = { pipeline, readAt: this.deps.now(), updatedAt: v.updatedAt, version: v.version };
      const payload = JSON.stringify(data);
      message = `event: ${changed ? 'change' : 'tick'}\ndata: ${payload}\n\n`;
    } catch (err) {
      message = `event: problem\ndata: ${JSON.stringify({ pipeline, readAt: this.deps.now(), error: err instanceof Error ? err.message : String(err) })}\n\n`;
    }
    for (const res of this.listeners.get(pipeline) ?? []) res.write(message);
    if (this.listeners.get(pipeline)?.size) this.schedule(pipeline, this.deps.liveIntervalMs ?? 1000);
  }

}

export async function startDashboard(opts: DashboardOptions): Promise<DashboardServer> {
  if (opts.deps.pipelines.length === 0) throw new Error('the dashboard needs at least one pipeline to show');
  // The pages' scripts are built now, so that the first page loads at once and a build that fails is said at
  // start; the API and /metrics are served all the same (the scripts' routes answer 500 with esbuild's errors).
  await pageScripts().catch((err: Error) => process.stderr.write(`dashboard: the pages' scripts did not build: ${err.message}\n`));
  const builtIn = dashboardRoutes(opts.deps);
  const routes: Record<string, Handler> = { ...builtIn, ...(opts.routes ?? {}) };
  const server = http.createServer((req, res) => {
    void handle(routes, req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(routes: Record<string, Handler>, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://dashboard');
  } catch {
    return send(res, { status: 400, contentType: JSON_TYPE, body: JSON.stringify({ error: 'malformed request URL' }) });
  }
  try {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `method ${req.method} not allowed (GET only)`);
    const handler = routes[url.pathname];
    if (!handler) throw new HttpError(404, `no such page or API: ${url.pathname}`);
    const result = await handler(req, url, res);
    if (result !== 'streamed') send(res, result);
  } catch (err) {
    const status = err instanceof HttpError ? err.status : err instanceof QueryError ? 400 : 500;
    const message = err instanceof Error ? err.message : String(err);
    if (!res.headersSent) send(res, { status, contentType: JSON_TYPE, body: JSON.stringify({ error: message }) });
    else res.end();
  }
}

function send(res: http.ServerResponse, r: RouteResult): void {
  res.writeHead(r.status ?? 200, { 'content-type': r.contentType, 'cache-control': 'no-store', ...(r.headers ?? {}) });
  res.end(r.body);
}
