/**
 * The dashboard's web server: node:http and a small route table. Every panel has a JSON route under
 * /api; the pages are static files that poll them. `/metrics` is the Prometheus scrape (./metrics).
 * Data sources come in as `DashboardDeps` so that tests and the CLI pass their own.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import type { Client } from '@temporalio/client';
import type { GridflowConfig } from '../config';

/** What the server reads from: shared with ./metrics (renderMetrics(deps)). */
export interface DashboardDeps {
  config: GridflowConfig;
  /** The sink database, connected as the read-only dashboard role. */
  sink: Pool;
  /** Temporal, for the pipeline's status query; null when it was unreachable at start. */
  temporal: Client | null;
  /** Pipeline names the dashboard shows (default: ['sgcc']). */
  pipelines: string[];
  /** Epoch ms now; tests pass a fixed clock. */
  now(): number;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RouteResult {
  status?: number;
  contentType: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

export type Handler = (req: http.IncomingMessage, url: URL, res: http.ServerResponse) => Promise<RouteResult | 'streamed'>;

export interface DashboardOptions {
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

async function metricsRoute(deps: DashboardDeps): Promise<RouteResult> {
  const { renderMetrics } = await import('./metrics');
  const { contentType, body } = await renderMetrics(deps);
  return { contentType, body };
}

export function baseRoutes(deps: DashboardDeps): Record<string, Handler> {
  return {
    '/healthz': async () => ({ contentType: 'application/json', body: JSON.stringify({ ok: true, at: deps.now() }) }),
    '/metrics': async () => metricsRoute(deps),
  };
}

export async function startDashboard(opts: DashboardOptions): Promise<DashboardServer> {
  const routes: Record<string, Handler> = { ...baseRoutes(opts.deps), ...(opts.routes ?? {}) };
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
    return send(res, { status: 400, contentType: 'application/json', body: JSON.stringify({ error: 'malformed request URL' }) });
  }
  try {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `method ${req.method} not allowed (GET only)`);
    const handler = routes[url.pathname];
    if (!handler) throw new HttpError(404, `no such page or API: ${url.pathname}`);
    const result = await handler(req, url, res);
    if (result !== 'streamed') send(res, result);
  } catch (err) {
    const status = err instanceof HttpError ? err.status : 500;
    const message = err instanceof Error ? err.message : String(err);
    if (!res.headersSent) send(res, { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ error: message }) });
    else res.end();
  }
}

function send(res: http.ServerResponse, r: RouteResult): void {
  res.writeHead(r.status ?? 200, { 'content-type': r.contentType, 'cache-control': 'no-store', ...(r.headers ?? {}) });
  res.end(r.body);
}
