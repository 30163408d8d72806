/**
 * The dashboard on the real stack, in a real browser: the pipeline deployed by its workflow, the
 * dashboard server in this process (reading the sink as the read-only role), Debian's chromium driven
 * headless by playwright-core. The pages render, the numbers shown equal the sink, a change in the
 * source reaches the open page without a reload, bad parameters get a 400, and the role cannot write.
 * Screenshots of both pages are kept in test-artifacts/.
 *
 * Leaves the stack as verify.test.ts does: jobs cancelled, the e2e pipeline's slots and publications dropped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { Pool } from 'pg';
import { PipelineSpec } from '../../src/core/spec';
import { DashboardServer } from '../../src/dashboard/server';
import { STACK_UP_TIMEOUT_MS, ensureStack } from '../support/stack';
import { startTestDashboard } from '../support/dashboard';
import { RunningPipeline, allRunning, runPipeline } from '../support/pipeline';
import { describeMismatch, releasePipeline, resetWarehouse, sinkSql, sourceSql, testSpec, waitConsistent } from '../support/warehouse';

jest.setTimeout(3 * 60_000);

const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');
const spec: PipelineSpec = testSpec();
let pipeline: RunningPipeline;
let reader: Pool;
let server: DashboardServer;
let closeDashboard: (() => Promise<void>) | undefined;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await ensureStack();
  await resetWarehouse(spec);
  pipeline = await runPipeline(spec);
  await pipeline.waitStatus('RUNNING', allRunning);
  const { result } = await waitConsistent(spec, 180_000);
  if (!result.ok) throw new Error(`the warehouse did not settle after deploy:\n${describeMismatch(result)}`);
  ({ server, reader, close: closeDashboard } = await startTestDashboard(pipeline, spec));
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1600, height: 1300 }, locale: 'zh-CN' });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
}, STACK_UP_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await closeDashboard?.();
  await pipeline?.stop();
  await releasePipeline(spec);
}, 5 * 60_000);

/** A browser-side condition, as a string: evaluated in the page, not compiled with the test. */
const runningTotalIs = (n: number) => `document.querySelector('[data-testid="kpi-running-total"]')?.textContent.replace(/[,\\s]/g, '') === '${n}'`;
const text = (testId: string) => page.locator(`[data-testid="${testId}"]`).innerText();
/** A number as the page formats it (zh-CN grouping), back to a number. */
const number = (s: string) => Number(s.replace(/[,\s]/g, ''));

async function get(route: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${route}`);
  return { status: res.status, body: await res.json() };
}

test('the read-only role reads the sink and cannot write to it', async () => {
  const [row] = (await reader.query('SELECT count(*)::int AS n FROM dw.ads_equipment_health')).rows;
  expect(row.n).toBe(300);
  await expect(reader.query("INSERT INTO gridflow.events (pipeline, kind, message) VALUES ('e2e', 'x', 'y')")).rejects.toThrow(/read-only transaction|permission denied/);
  await expect(reader.query('BEGIN READ WRITE; UPDATE dw.ads_grid_dashboard SET alarm_count = 0; COMMIT')).rejects.toThrow(/permission denied/);
  await reader.query('ROLLBACK').catch(() => undefined);
  expect((await reader.query('SELECT current_user AS u')).rows[0].u).toBe('gridflow_reader');
});

test('bad query parameters get a 400 naming the problem; unknown paths a 404', async () => {
  expect(await get('/api/grid/health?sort=password')).toEqual({ status: 400, body: { error: expect.stringMatching(/^sort must be one of health_score/) } });
  expect(await get('/api/grid/health?limit=0')).toEqual({ status: 400, body: { error: 'limit must be 1..1000, got 0' } });
  expect(await get('/api/grid/kpi?pipeline=other')).toEqual({ status: 400, body: { error: 'pipeline must be one of e2e, got "other"' } });
  expect(await get('/api/grid/kpi?pipline=e2e')).toEqual({ status: 400, body: { error: expect.stringContaining('unknown query parameter "pipline"') } });
  expect(await get('/api/pipeline/freshness?minutes=99999')).toEqual({ status: 400, body: { error: 'minutes must be 1..1440, got 99999' } });
  expect((await get('/api/nothing')).status).toBe(404);
});

test('the JSON API: every panel carries its age, and the numbers are the sink\'s', async () => {
  const kpi = (await get('/api/grid/kpi')).body;
  const [sink] = await sinkSql('SELECT equipment_total::int, running_total::int, alarm_count::int, attention_count::int FROM dw.ads_grid_dashboard');
  expect(kpi.kpis).toMatchObject({ equipmentTotal: sink.equipment_total, runningTotal: sink.running_total, alarmCount: sink.alarm_count, attentionCount: sink.attention_count });
  for (const route of ['/api/grid/kpi', '/api/grid/capacity', '/api/grid/health', '/api/grid/breakdowns', '/api/pipeline/events']) {
    const { status, body } = await get(route);
    expect([route, status]).toEqual([route, 200]);
    expect(typeof body.readAt).toBe('number');
    expect(typeof body.ageMs).toBe('number');
    expect(body.ageMs).toBeGreaterThanOrEqual(0);
  }
  const health = (await get('/api/grid/health?region=%E5%8D%8E%E5%8C%97&sort=load_ratio&limit=5')).body;
  const [{ n }] = await sinkSql("SELECT count(*)::int AS n FROM dw.ads_equipment_health WHERE region = '华北'");
  expect(health.matching).toBe(n);
  expect(health.total).toBe(300);
  expect(health.rows.every((r: { region: string }) => r.region === '华北')).toBe(true);
  const ratios = health.rows.map((r: { loadRatio: number | null }) => r.loadRatio ?? -1);
  expect(ratios).toEqual([...ratios].sort((a, b) => b - a));
  const status = (await get('/api/pipeline')).body;
  expect(status.status.state).toBe('RUNNING');
  expect(status.status.jobs.map((j: { job: string }) => j.job)).toEqual(['ingest', 'dws', 'ads', 'sink']);
  expect(status.links.temporalWorkflow).toContain(encodeURIComponent(pipeline.handle.workflowId));
});

test('the grid page shows the sink\'s numbers with their age, in Chinese and in English', async () => {
  await page.goto(`${server.url}/`);
  await page.locator('[data-testid="kpi-equipment-total"]').filter({ hasText: /\d/ }).waitFor();
  const [sink] = await sinkSql(
    'SELECT equipment_total::int, running_total::int, installed_capacity_mw::float8 AS installed, current_load_mw::float8 AS load, alarm_count::int, attention_count::int FROM dw.ads_grid_dashboard',
  );
  expect(number(await text('kpi-equipment-total'))).toBe(sink.equipment_total);
  expect(number(await text('kpi-running-total'))).toBe(sink.running_total);
  expect(number(await text('kpi-installed-capacity'))).toBeCloseTo(sink.installed as number, 2);
  expect(number(await text('kpi-current-load'))).toBeCloseTo(sink.load as number, 3);
  expect(number(await text('kpi-alarm-count'))).toBe(sink.alarm_count);
  expect(number(await text('kpi-attention-count'))).toBe(sink.attention_count);
  expect(await text('data-age')).toMatch(/^数据更新于 (刚刚|\d+ (秒|分钟|小时)前)$/);

  // Capacity planning: one row per region, the overloaded ones highlighted.
  const regions = await sinkSql('SELECT region, overload_alert FROM dw.ads_capacity_planning ORDER BY region');
  await page.waitForFunction(`document.querySelectorAll('[data-testid="capacity-table"] tbody tr').length === ${regions.length}`);
  for (const r of regions) {
    const cls = await page.locator(`[data-testid="capacity-table"] tr[data-region="${r.region}"]`).getAttribute('class');
    expect([r.region, cls === 'overload']).toEqual([r.region, r.overload_alert]);
  }

  // The health list: worst first, as the sink orders it; a region filter shows that region only.
  await page.locator('[data-testid="health-table"] tbody tr').first().waitFor();
  const worst = await sinkSql('SELECT equipment_id, health_score FROM dw.ads_equipment_health ORDER BY health_score, equipment_id LIMIT 3');
  const shown = await page.locator('[data-testid="health-table"] tbody tr').evaluateAll((trs) => trs.slice(0, 3).map((tr) => tr.getAttribute('data-equipment-id')));
  expect(shown).toEqual(worst.map((w) => w.equipment_id));
  await page.selectOption('[data-testid="filter-region"]', '华东');
  await page.waitForFunction(`[...document.querySelectorAll('[data-testid="health-table"] tbody tr td:nth-child(4)')].every((td) => td.textContent === '华东')`);
  const [{ n }] = await sinkSql("SELECT count(*)::int AS n FROM dw.ads_equipment_health WHERE region = '华东'");
  expect(await page.locator('[data-testid="health-table"] tbody tr').count()).toBe(Math.min(n as number, 100));
  expect(await text('health-count')).toContain(`筛选 ${n} / 共 300 台`);
  await page.selectOption('[data-testid="filter-region"]', '');
  // Sorting by temperature: the hottest first.
  await page.click('th[data-sort="latest_temperature_c"]');
  const hottest = await sinkSql('SELECT equipment_id FROM dw.ads_equipment_health ORDER BY latest_temperature_c DESC NULLS LAST, equipment_id DESC LIMIT 1');
  await page.locator(`[data-testid="health-table"] tbody tr:first-child[data-equipment-id="${hottest[0].equipment_id}"]`).waitFor();

  // Charts drawn by ECharts (served from node_modules, no CDN).
  expect(await page.locator('#capacity-chart canvas, #type-chart canvas, #region-chart canvas, #voltage-chart canvas').count()).toBe(4);
  await page.click('th[data-sort="health_score"]');
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-grid.png'), fullPage: true });

  await page.click('#lang');
  expect(await page.locator('h1').innerText()).toBe('SGCC grid — real-time equipment monitoring');
  expect(await text('data-age')).toMatch(/^data updated (just now|\d+ (s|min|h) ago)$/);
  await page.click('#lang');
  expect(await page.locator('h1').innerText()).toBe('国家电网设备实时监控大屏');
});

test('a change in the source appears on the open page without a reload', async () => {
  await page.goto(`${server.url}/`);
  await page.locator('[data-testid="kpi-running-total"]').filter({ hasText: /\d/ }).waitFor();
  await page.evaluate('window.notReloaded = true');
  const before = number(await text('kpi-running-total'));
  const [victim] = await sourceSql("SELECT equipment_id FROM power_equipment WHERE status = '运行' ORDER BY equipment_id LIMIT 1");
  await sourceSql("UPDATE power_equipment SET status = '停运', updated_at = now() WHERE equipment_id = $1", [victim.equipment_id]);
  try {
    // The pipeline carries it to the sink, the live stream tells the page, the page fetches again.
    await page.waitForFunction(runningTotalIs(before - 1), undefined, { timeout: 60_000 });
    const [sink] = await sinkSql('SELECT running_total::int FROM dw.ads_grid_dashboard');
    expect(sink.running_total).toBe(before - 1);
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    expect(await page.locator('#live-dot').getAttribute('class')).toBe('dot on');
  } finally {
    await sourceSql("UPDATE power_equipment SET status = '运行', updated_at = now() WHERE equipment_id = $1", [victim.equipment_id]);
  }
  await page.waitForFunction(runningTotalIs(before), undefined, { timeout: 60_000 });
});

test('the pipeline page: state, each job with its Flink state and links, ages', async () => {
  await page.goto(`${server.url}/pipeline`);
  await page.locator('[data-testid="pipeline-state"]').filter({ hasText: 'RUNNING' }).waitFor();
  const jobs = page.locator('[data-testid="jobs-table"] tbody tr');
  expect(await jobs.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-job'), tr.querySelector('[data-field="flink-state"]')?.textContent]))).toEqual([
    ['ingest', 'RUNNING'],
    ['dws', 'RUNNING'],
    ['ads', 'RUNNING'],
    ['sink', 'RUNNING'],
  ]);
  const flinkLinks = await jobs.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  expect(flinkLinks).toHaveLength(4);
  for (const href of flinkLinks) expect(href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#\/job\/running\/[0-9a-f]{32}\/overview$/);
  expect(await page.locator('#temporal-link').getAttribute('href')).toContain(encodeURIComponent(pipeline.handle.workflowId));
  expect(await page.locator('[data-age="status"]').innerText()).toMatch(/^观测于 (刚刚|\d+ (秒|分钟)前)$/);
  expect(await text('status-error')).toBe('');
  // Whether the sink equals the contract: no verification has reached this pipeline's workflow yet.
  expect(await text('pipeline-sink')).toBe('尚未校验');
  expect(await text('pipeline-repair')).toBe('');
  await page.locator('#freshness-chart canvas').waitFor();
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-pipeline.png'), fullPage: true });
});
