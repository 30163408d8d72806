/**
 * Shared by both pages: language (Chinese first, English on request), fetching a panel's JSON, ages that
 * keep counting between fetches, and the live stream (/api/live) that says when to fetch again. Ages are
 * worded and coloured by view.ts describeAge / ageLevel, the functions the server's tests pin down.
 *
 * Runs in the browser: bundled by src/dashboard/bundle.ts. It imports values only from here and from
 * view.ts (pure); of the server's modules, only their types (eslint.config.mjs).
 */
import type { gridBreakdowns, gridCapacity, gridHealth, gridKpis, pipelineEvents, pipelineFreshness, pipelineVerifications } from '../data';
import type { LiveMessage, PipelineView } from '../server';
import { Lang, ageLevel, describeAge } from '../view';
import { TextKey, WORDS, WordKey, Words } from './words';

/** What each API route answers: the server's own types (data.ts, server.ts), as JSON. */
export interface Api {
  '/api/grid/kpi': Awaited<ReturnType<typeof gridKpis>>;
  '/api/grid/capacity': Awaited<ReturnType<typeof gridCapacity>>;
  '/api/grid/health': Awaited<ReturnType<typeof gridHealth>>;
  '/api/grid/breakdowns': Awaited<ReturnType<typeof gridBreakdowns>>;
  '/api/pipeline': PipelineView;
  '/api/pipeline/freshness': Awaited<ReturnType<typeof pipelineFreshness>>;
  '/api/pipeline/verifications': Awaited<ReturnType<typeof pipelineVerifications>>;
  '/api/pipeline/events': Awaited<ReturnType<typeof pipelineEvents>>;
}

/** ECharts, from the page's <script src="/vendor/echarts.min.js"> (node_modules/echarts/dist, not bundled). */
export const echarts = (window as unknown as { echarts: typeof import('echarts') }).echarts;
export type Chart = ReturnType<typeof echarts.init>;
export type { EChartsOption } from 'echarts';

const params = new URLSearchParams(location.search);
const saved = (() => {
  try {
    return localStorage.getItem('gridflow.lang');
  } catch {
    return null;
  }
})();
const asked = params.get('lang');
let lang: Lang = asked === 'en' || asked === 'zh' ? asked : saved === 'en' ? 'en' : 'zh';
const pipeline = params.get('pipeline');

export const currentLang = (): Lang => lang;
export const t = <K extends WordKey>(key: K): Words[K] => WORDS[lang][key];
/** The word of a data-i18n name from the HTML (the name itself when there is none). */
function word(key: string): string {
  const w: unknown = (WORDS[lang] as Record<string, unknown>)[key];
  return typeof w === 'string' ? w : key;
}
/** A risk level's word (the level itself when it is not one of view.ts RISK_LEVELS). */
export const riskWord = (level: string): string => (t('risks') as Record<string, string | undefined>)[level] ?? level;

/** The element `selector` finds: one that is missing is an error in its panel, not a silent blank. */
export function $<E extends HTMLElement = HTMLElement>(selector: string): E {
  const el = document.querySelector<E>(selector);
  if (!el) throw new Error(`no ${selector} on this page`);
  return el;
}

/** Elements showing an age: the age the server measured plus the time since we received it. */
interface ShownAge {
  el: HTMLElement;
  ageMs: number | null | undefined;
  /** performance.now() when the age came. */
  at: number;
  prefix: TextKey | undefined;
}
const ages: ShownAge[] = [];

export function showAge(el: HTMLElement, ageMs: number | null | undefined, prefix?: TextKey): void {
  let entry = ages.find((a) => a.el === el);
  if (!entry) {
    entry = { el, ageMs, at: 0, prefix };
    ages.push(entry);
  }
  entry.ageMs = ageMs;
  entry.at = performance.now();
  entry.prefix = prefix;
  renderAge(entry);
}

function renderAge(a: ShownAge): void {
  const now = a.ageMs === null || a.ageMs === undefined ? null : a.ageMs + (performance.now() - a.at);
  a.el.textContent = `${a.prefix ? `${t(a.prefix)} ` : ''}${describeAge(now, lang)}`;
  a.el.className = `age ${ageLevel(now)}`;
  a.el.dataset.ageMs = now === null ? '' : String(Math.round(now));
}
setInterval(() => ages.forEach(renderAge), 1000);

export async function api<P extends keyof Api>(path: P, extra?: Record<string, string>): Promise<Api[P]> {
  const q = new URLSearchParams(extra ?? {});
  if (pipeline) q.set('pipeline', pipeline);
  const res = await fetch(`${path}${q.toString() ? `?${q}` : ''}`, { cache: 'no-store' });
  const body: unknown = await res.json();
  if (!res.ok) throw new Error((body as { error?: string }).error || `${path}: HTTP ${res.status}`);
  return body as Api[P];
}

/** Run `fn` for a panel, showing its error in the panel instead of breaking the page. */
export async function panel(id: string, fn: () => Promise<void>): Promise<void> {
  const box = document.getElementById(id);
  const err = box && box.querySelector('.error');
  // Cleared first: fn may itself put a message there (the status query's error beside a last-known state).
  if (err) err.textContent = '';
  try {
    await fn();
  } catch (e) {
    if (err) err.textContent = String((e as { message?: unknown } | null)?.message || e);
  }
}

function applyWords(): void {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.querySelectorAll<HTMLElement>('[data-i18n]').forEach((el) => {
    el.textContent = word(el.dataset.i18n ?? '');
  });
  const btn = document.getElementById('lang');
  if (btn) btn.textContent = t('toggle');
  ages.forEach(renderAge);
}

/** The live stream: calls onChange when the sink moved; the dot says whether we are connected. */
export function live(onChange: (change: LiveMessage) => void): EventSource {
  const dot = $('#live-dot');
  const label = $('#live-label');
  const q = pipeline ? `?pipeline=${encodeURIComponent(pipeline)}` : '';
  const source = new EventSource(`/api/live${q}`);
  const set = (on: boolean) => {
    dot.className = `dot ${on ? 'on' : 'off'}`;
    label.dataset.i18n = on ? 'live' : 'liveOff';
    label.textContent = word(label.dataset.i18n);
  };
  source.addEventListener('open', () => set(true));
  source.addEventListener('error', () => set(false));
  source.addEventListener('change', (e) => {
    set(true);
    onChange(JSON.parse((e as MessageEvent<string>).data) as LiveMessage);
  });
  source.addEventListener('tick', () => set(true));
  return source;
}

/** Fetch again on every change, one fetch at a time; a change during a fetch fetches once more after it. */
export function refresher(load: () => Promise<unknown>): () => Promise<void> {
  let loading = false;
  let again = false;
  return async () => {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    try {
      do {
        again = false;
        await load();
      } while (again);
    } finally {
      loading = false;
    }
  };
}

/** The language button, the nav links keeping ?pipeline=, and the words; `onLang` redraws the panels. */
export function setup(onLang: () => void): void {
  $('#lang').addEventListener('click', () => {
    lang = lang === 'zh' ? 'en' : 'zh';
    try {
      localStorage.setItem('gridflow.lang', lang);
    } catch {
      /* private mode */
    }
    applyWords();
    onLang();
  });
  document.querySelectorAll<HTMLAnchorElement>('header nav a').forEach((a) => {
    if (pipeline) a.href += `?pipeline=${encodeURIComponent(pipeline)}`;
  });
  applyWords();
}

type Maybe<T> = T | null | undefined;

export const fmt = (v: Maybe<number>, digits = 0): string =>
  v === null || v === undefined ? '—' : Number(v).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const pct = (v: Maybe<number>): string => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`);
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (s: Maybe<string | number>): string => String(s ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c]);
export const time = (ms: Maybe<number>): string => (ms ? new Date(ms).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false }) : '—');
