/**
 * The Temporal Web UI, driven in Chromium the way an operator uses it: on the page of a pipeline workflow
 * deployed on the real stack (by its workflow, with the real activities), read the summary and the current
 * details the workflow keeps (src/core/metadata.ts), then send a redeploy through "Send a Signal" and
 * through "Send an Update" (UI 2.54.1 of the Temporal CLI 1.9.1 has both, as does 2.42.1 of v1.5.1), and see each
 * outcome in the UI's current details and in the status query. Screenshots go to test-artifacts/.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, Frame, Page, chromium } from 'playwright-core';
import { loadConfig } from '../../src/config';
import type { PipelineStatus } from '../../src/core/state';
import { statusQuery } from '../../src/workflows/definitions';
import { RunningPipeline, allRunning, runPipeline } from '../support/pipeline';
import { STACK_UP_TIMEOUT_MS, ensureStack } from '../support/stack';
import { resetWarehouse, testSpec } from '../support/warehouse';

jest.setTimeout(4 * 60_000);

const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');
// A slower watch than the default keeps the history (and the UI's rendering of it) small.
const spec = () => testSpec({ watch: { interval: '10s', readinessTimeout: '3min' } as never });

let pipeline: RunningPipeline;
let browser: Browser;
let page: Page;
let metadataUrl: string;

const waitStatus = (what: string, predicate: (s: PipelineStatus) => boolean, timeoutMs = 150_000) => pipeline.waitStatus(what, predicate, timeoutMs);

/** The rendered markdown under one of the User Metadata tab's headings (each is an iframe of ui-server's /render). */
async function sectionText(heading: 'Summary' | 'Details' | 'Current Details'): Promise<string> {
  const section = page.locator('div', { has: page.getByRole('heading', { name: heading, exact: true }) }).filter({ has: page.locator('iframe') }).last();
  const handle = await section.locator('iframe').first().elementHandle();
  const frame: Frame | null = (await handle?.contentFrame()) ?? null;
  if (!frame) throw new Error(`no rendered ${heading} on the page`);
  await frame.waitForSelector('main');
  return (await frame.locator('main').innerText()).trim();
}

/** The iframe of the current details and how far down its last list item (the last fact) ends, in its own pixels. */
async function lastFactBottom(): Promise<{ paneHeight: number; lastFactBottom: number }> {
  const section = page.locator('div', { has: page.getByRole('heading', { name: 'Current Details', exact: true }) }).filter({ has: page.locator('iframe') }).last();
  const iframe = section.locator('iframe').first();
  const paneHeight = (await iframe.boundingBox())!.height;
  const frame = (await (await iframe.elementHandle())!.contentFrame())!;
  const bottom = await frame.locator('li').last().evaluate((li) => li.getBoundingClientRect().bottom);
  return { paneHeight, lastFactBottom: bottom };
}

/** Reload the User Metadata tab until the current details satisfy `predicate` (the UI fetches them on load). */
async function currentDetailsWhen(what: string, predicate: (text: string) => boolean, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    await page.goto(metadataUrl);
    await page.getByRole('heading', { name: 'Current Details', exact: true }).waitFor();
    last = await sectionText('Current Details').catch(() => last);
    if (predicate(last)) return last;
    if (Date.now() > deadline) throw new Error(`the UI's current details never showed ${what}; last:\n${last}`);
    await page.waitForTimeout(2000);
  }
}

/** More Actions → "Send a Signal" / "Send an Update" → name `redeploy`, JSON input → Submit. */
async function sendRedeploy(form: 'Send a Signal' | 'Send an Update', input: object): Promise<void> {
  await page.goto(metadataUrl);
  await page.getByRole('button', { name: 'More Actions' }).click();
  await page.getByRole('menuitem', { name: form }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByTestId(form === 'Send a Signal' ? 'signal-select-button' : 'update-select-button').click();
  // The names come from the workflow's own definition (the __temporal_workflow_metadata query).
  await dialog.getByRole('option', { name: 'redeploy', exact: true }).click();
  await dialog.locator('.cm-content').fill(JSON.stringify(input));
  // The editor formats its JSON when it loses focus; Submit takes the formatted value.
  // The input's hint: "(only single JSON payload supported)" in UI 2.42.1, "Single JSON payload supported." in 2.54.1.
  await dialog.getByText(/single JSON payload supported/i).click();
  await page.screenshot({ path: path.join(ARTIFACTS, `temporal-ui-${form === 'Send a Signal' ? 'signal' : 'update'}-form.png`) });
  await dialog.getByRole('button', { name: 'Submit' }).click();
  await dialog.waitFor({ state: 'hidden', timeout: 30_000 });
}

beforeAll(async () => {
  await ensureStack();
  await resetWarehouse(spec());
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1600, height: 1100 } });
}, STACK_UP_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await pipeline?.stop();
});

test("the workflow's page shows what the pipeline is and its condition, without a query", async () => {
  pipeline = await runPipeline(spec());
  await waitStatus('RUNNING', allRunning, 180_000);
  const { runId, workflowId } = await pipeline.handle.describe();
  const { temporal, stack } = loadConfig();
  const host = temporal.address.split(':')[0];
  metadataUrl = `http://${host}:${stack.ports.temporalUi}/namespaces/${temporal.namespace}/workflows/${encodeURIComponent(workflowId)}/${runId}/user-metadata`;

  const details = await currentDetailsWhen('every job RUNNING', (t) => t.startsWith('RUNNING') && (t.match(/job \w+: RUNNING/g) ?? []).length === 4);
  expect(details).toMatch(/^RUNNING · pipeline e2e spec version 1 · as of \d{4}-\d\d-\d\dT[\d:.]+Z/);
  for (const job of ['ingest', 'dws', 'ads', 'sink']) expect(details).toContain(`job ${job}: RUNNING`);
  expect(details).toContain('last verification: none yet');
  // The UI cuts the bottom of its panes (core/metadata.ts FOOTER): every fact is still in view.
  const fit = await lastFactBottom();
  expect(fit.lastFactBottom).toBeLessThanOrEqual(fit.paneHeight);
  expect(await sectionText('Summary')).toBe('pipeline e2e, spec version 1 at start');
  expect(await sectionText('Details')).toContain('Send a Signal or Send an Update named redeploy');
  await page.screenshot({ path: path.join(ARTIFACTS, 'temporal-ui-running.png'), fullPage: true });
});

test('a redeploy sent through "Send a Signal": the outcome in the current details and the status query', async () => {
  const requestId = `ui-signal-${randomUUID().slice(0, 8)}`;
  const before = await sectionText('Current Details');
  await sendRedeploy('Send a Signal', { requestId, jobs: ['sink'] });
  const s = await waitStatus('the signalled redeploy', (x) => x.redeployPlan?.requestId === requestId && x.lastRedeploy !== null && allRunning(x));
  expect(s.lastRedeploy).toMatchObject({ outcome: 'deployed', jobs: ['sink'] });
  const after = await currentDetailsWhen('the redeploy outcome', (t) => t.startsWith('RUNNING') && t.includes('last redeploy: v1 → v1 deployed (sink)'));
  expect(after).not.toEqual(before);
  await page.screenshot({ path: path.join(ARTIFACTS, 'temporal-ui-after-signal.png'), fullPage: true });
});

test('a redeploy sent through "Send an Update": the UI reports it succeeded; the outcome shows there and in status', async () => {
  const requestId = `ui-update-${randomUUID().slice(0, 8)}`;
  const ads = (x: PipelineStatus) => x.jobs.find((j) => j.job === 'ads')!;
  const before = await pipeline.handle.query(statusQuery);
  // Another job than the signal's, so the current details show this outcome, not that one.
  await sendRedeploy('Send an Update', { requestId, jobs: ['ads'] });
  // An update waits for its handler: the UI says so once the redeploy is over.
  await page.getByText('Update successful').first().waitFor({ timeout: 120_000 });
  const s = await waitStatus('the updated redeploy', (x) => x.redeployPlan?.requestId === requestId && allRunning(x));
  expect(s.lastRedeploy).toMatchObject({ outcome: 'deployed', jobs: ['ads'] });
  // A new ads job, from the savepoint the redeploy took.
  expect(ads(s).jobId).not.toBe(ads(before).jobId);
  expect(ads(s).restoredFrom?.kind).toBe('savepoint');
  const after = await currentDetailsWhen('the update\'s outcome', (t) => t.startsWith('RUNNING') && t.includes('last redeploy: v1 → v1 deployed (ads)'));
  expect(after).toMatch(/job ads: RUNNING/);
  await page.screenshot({ path: path.join(ARTIFACTS, 'temporal-ui-after-update.png'), fullPage: true });
});
