/**
 * The pipeline page: its state and reason, each job (Flink state, checkpoints, savepoints, restarts),
 * freshness over time (gridflow.probe_log), the last verifications, alerts and the event log.
 */
import { describeAge } from '../view';
import { $, Api, Chart, EChartsOption, api, currentLang, echarts, esc, fmt, live, panel, refresher, setup, showAge, t, time } from './common';

type Status = Api['/api/pipeline'];
type Freshness = Api['/api/pipeline/freshness'];
type Verifications = Api['/api/pipeline/verifications'];
type Events = Api['/api/pipeline/events'];

let freshnessChart: Chart | undefined;
const last: { status?: Status; freshness?: Freshness; verifications?: Verifications; events?: Events } = {};
/** "14:05:56 (2 分钟前)": when, and how long ago. */
const timeAndAge = (x: { at: number; ageMs: number } | null) => (x ? `${time(x.at)} (${describeAge(x.ageMs, currentLang())})` : '—');

function status(d: Status): void {
  last.status = d;
  $('#pipeline-name').textContent = d.pipeline;
  $<HTMLAnchorElement>('#temporal-link').href = d.links.temporalWorkflow;
  $<HTMLAnchorElement>('#flink-link').href = d.links.flinkUi;
  $('[data-testid="status-error"]').textContent = d.error ? `${t('statusError')}: ${d.error}` : '';
  for (const key of ['status', 'jobs', 'alerts']) showAge($(`[data-age="${key}"]`), d.ageMs, 'observed');
  const s = d.status;
  const state = $('[data-testid="pipeline-state"]');
  state.textContent = s ? s.state : '—';
  state.className = `state lvl-${s ? s.level : 'unknown'}`;
  $('[data-testid="pipeline-reason"]').textContent = s ? s.reason ?? t('none') : '—';
  // Whether the sink equals the contract, said with its age: "differs (2 rows in …) since …" or "proven equal … ago".
  const diff = s ? s.sinkDifference : null;
  $('[data-testid="pipeline-sink"]').textContent = !s
    ? '—'
    : diff
      ? `${t('sinkDiffers')}: ${diff.rows} · ${diff.tables.join(', ')} · ${t('since')} ${timeAndAge({ at: diff.since, ageMs: diff.ageMs })}${s.lastEqual ? ` · ${t('lastEqual')} ${timeAndAge(s.lastEqual)}` : ''}`
      : s.lastEqual
        ? `${t('sinkEqual')} ${timeAndAge(s.lastEqual)}`
        : t('notCompared');
  $('[data-testid="pipeline-repair"]').textContent = s && s.repair ? `${t('repair')}: ${s.repair.sentence}` : '';
  const lag = s && s.freshness && s.freshness.lagMs !== null ? `${t('lag')} ${fmt(s.freshness.lagMs / 1000, 1)} s` : '';
  $('#pipeline-version').textContent = s ? [`${t('version')} ${s.version}`, lag].filter(Boolean).join(' · ') : '';
  $('[data-testid="jobs-table"] tbody').innerHTML = (s ? s.jobs : [])
    .map(
      (j) => `<tr data-job="${esc(j.job)}">
      <td>${j.flinkLink ? `<a href="${esc(j.flinkLink)}" target="_blank" rel="noopener">${esc(j.flinkName)}</a>` : esc(j.flinkName)}</td>
      <td data-field="flink-state">${esc(j.flinkState ?? '—')}</td>
      <td>${timeAndAge(j.lastCheckpoint)}</td><td>${j.lastSavepoint ? `${timeAndAge(j.lastSavepoint)} <span class="muted">${esc(j.lastSavepoint.reason ?? '')}</span>` : '—'}</td>
      <td class="num">${j.restartsInWindow}</td><td class="muted">${esc(j.lastError ?? '')}</td></tr>`,
    )
    .join('');
  $('[data-testid="alerts"]').innerHTML =
    s && s.alerts.length
      ? s.alerts.map((a) => `<li><span class="badge risk-告警">${esc(a.kind)}</span> ${esc(a.message)} <span class="muted">${esc(describeAge(a.ageMs, currentLang()))}</span></li>`).join('')
      : `<li class="muted">${t('none')}</li>`;
}

function freshness(d: Freshness): void {
  last.freshness = d;
  showAge($('[data-age="freshness"]'), d.ageMs);
  freshnessChart ??= echarts.init($('#freshness-chart'), 'dark');
  const from = d.readAt - d.minutes * 60000;
  const option: EChartsOption = {
    backgroundColor: 'transparent',
    grid: { left: 50, right: 20, top: 50, bottom: 40 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'time', min: from, max: d.readAt, axisLabel: { color: '#8ea3c0' } },
    yAxis: { type: 'value', name: t('latency'), axisLabel: { color: '#8ea3c0' }, splitLine: { lineStyle: { color: '#1d3557' } } },
    legend: { top: 0, data: [t('latency'), t('verificationDots')], textStyle: { color: '#dce6f5' } },
    series: [
      {
        name: t('latency'),
        type: 'line',
        showSymbol: d.points.length < 50,
        data: d.points.map((p) => [p.sentAt, +(p.latencyMs / 1000).toFixed(3)]),
        itemStyle: { color: '#36cfc9' },
        areaStyle: { opacity: 0.15 },
      },
      // Each verification's own probe (gridflow.verification_runs), red when the run failed.
      {
        name: t('verificationDots'),
        type: 'scatter',
        symbolSize: 9,
        data: (last.verifications ? last.verifications.runs : []).flatMap((r) =>
          r.freshnessMs !== null && r.startedAt !== null && r.startedAt >= from
            ? [{ value: [r.startedAt, +(r.freshnessMs / 1000).toFixed(3)], itemStyle: { color: r.ok ? '#2ecc71' : '#ff4d4f' } }]
            : [],
        ),
      },
    ],
  };
  freshnessChart.setOption(option, true);
}

function verifications(d: Verifications): void {
  last.verifications = d;
  if (last.freshness) freshness(last.freshness);
  showAge($('[data-age="verifications"]'), d.ageMs);
  $('[data-testid="verifications-table"] tbody').innerHTML =
    d.runs
      .map(
        (r) => `<tr>
      <td>${time(r.startedAt)}</td><td class="${r.ok === null ? 'lvl-busy' : r.ok ? 'lvl-ok' : 'lvl-bad'}">${r.ok === null ? t('runningRun') : r.ok ? t('pass') : t('fail')}</td>
      <td class="num">${r.freshnessMs === null ? '—' : `${fmt(r.freshnessMs / 1000, 2)} s`}</td><td class="muted">${esc(r.summary ?? '')}</td></tr>`,
      )
      .join('') || `<tr><td colspan="4" class="muted">${t('none')}</td></tr>`;
}

function events(d: Events): void {
  last.events = d;
  showAge($('[data-age="events"]'), d.ageMs);
  $('[data-testid="events-table"] tbody').innerHTML =
    d.events
      .map(
        (e) => `<tr>
      <td>${time(e.at)}</td><td>${esc(e.kind)}</td><td style="white-space: normal">${esc(e.message)}</td></tr>`,
      )
      .join('') || `<tr><td colspan="3" class="muted">${t('none')}</td></tr>`;
}

const loadStatus = () => panel('state-panel', async () => status(await api('/api/pipeline')));
const loadAll = () =>
  Promise.all([
    loadStatus(),
    panel('freshness-panel', async () => freshness(await api('/api/pipeline/freshness'))),
    panel('verifications-panel', async () => verifications(await api('/api/pipeline/verifications'))),
    panel('events-panel', async () => events(await api('/api/pipeline/events'))),
  ]);
window.addEventListener('resize', () => freshnessChart && freshnessChart.resize());
setup(() => {
  if (last.status) status(last.status);
  if (last.freshness) freshness(last.freshness);
  if (last.verifications) verifications(last.verifications);
  if (last.events) events(last.events);
});
// The sink's changes (probes, verifications, events) come by the live stream; the workflow's state
// is not in the sink, so it is asked for again every 5 s as well.
live(refresher(loadAll));
setInterval(() => void loadStatus(), 5000);
void loadAll();
