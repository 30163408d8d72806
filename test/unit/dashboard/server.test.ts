/**
 * The server's routing without a database: pages and ECharts are served from disk and the pages' scripts
 * as built at start (./bundle.test.ts), bad requests are refused before any query (the pool here throws
 * if asked), and answers are never cached.
 */
import type { Pool } from 'pg';
import { loadConfig } from '../../../src/config';
import { DashboardServer, startDashboard } from '../../../src/dashboard/server';

let server: DashboardServer;
const queries: string[] = [];

beforeAll(async () => {
  const sink = {
    query: async (sql: string) => {
      queries.push(sql);
      throw new Error('no database in this test');
    },
  } as unknown as Pool;
  server = await startDashboard({ host: '127.0.0.1', port: 0, deps: { config: loadConfig({}), sink, temporal: null, pipelines: ['sgcc', 'east'], now: () => 1_000 } });
});

afterAll(() => server.close());

async function get(path: string, init?: RequestInit) {
  const res = await fetch(`${server.url}${path}`, init);
  return { status: res.status, type: res.headers.get('content-type'), cache: res.headers.get('cache-control'), text: await res.text() };
}

test('the pages, their scripts and ECharts (from node_modules, no CDN) are served', async () => {
  const grid = await get('/');
  expect(grid).toMatchObject({ status: 200, type: 'text/html; charset=utf-8', cache: 'no-store' });
  expect(grid.text).toContain('<script src="/vendor/echarts.min.js"></script>');
  expect(grid.text).not.toMatch(/https?:\/\//);
  expect((await get('/pipeline')).text).toContain('data-testid="jobs-table"');
  const echarts = await get('/vendor/echarts.min.js');
  expect(echarts).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8' });
  expect(echarts.text.length).toBeGreaterThan(500_000);
  for (const page of ['grid', 'pipeline']) {
    const script = await get(`/static/${page}.js`);
    expect(script).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8', cache: 'no-store' });
    // view.ts's words for ages, bundled into the page.
    expect(script.text).toContain('分钟前');
  }
  // The shared code is inside each page's script now.
  expect((await get('/static/common.js')).status).toBe(404);
  expect(await get('/healthz')).toMatchObject({ status: 200, text: '{"ok":true,"at":1000}' });
});

test('bad requests are refused with a message, before any query', async () => {
  const before = queries.length;
  expect(await get('/api/grid/health?sort=x')).toMatchObject({ status: 400, text: expect.stringContaining('sort must be one of') });
  expect(await get('/api/grid/kpi?pipeline=west')).toMatchObject({ status: 400, text: '{"error":"pipeline must be one of sgcc, east, got \\"west\\""}' });
  expect(await get('/api/pipeline/events?limit=0')).toMatchObject({ status: 400, text: '{"error":"limit must be 1..500, got 0"}' });
  expect(await get('/?foo=1')).toMatchObject({ status: 400, text: expect.stringContaining('unknown query parameter \\"foo\\"') });
  expect(await get('/nothing')).toMatchObject({ status: 404, text: '{"error":"no such page or API: /nothing"}' });
  expect(await get('/api/grid/kpi', { method: 'POST' })).toMatchObject({ status: 405 });
  expect(queries.length).toBe(before);
});

test('a failing source is a 500 naming it; the pipeline page without Temporal says why', async () => {
  expect(await get('/api/grid/kpi')).toMatchObject({ status: 500, text: expect.stringContaining('no database in this test') });
  const res = await get('/api/pipeline?pipeline=east');
  expect(res.status).toBe(200);
  expect(JSON.parse(res.text)).toMatchObject({
    pipeline: 'east',
    status: null,
    error: 'Temporal at 127.0.0.1:7233 was unreachable when the dashboard started',
    ageMs: null,
    links: { temporalWorkflow: 'http://127.0.0.1:8233/namespaces/default/workflows/pipeline%3Aeast', flinkUi: 'http://127.0.0.1:8081' },
  });
});
