/**
 * The grid page: KPI tiles (ads_grid_dashboard), capacity planning (ads_capacity_planning), the
 * equipment health list (ads_equipment_health) and the DWS breakdowns, each from its /api/grid route.
 */
import { RISK_LEVELS, defaultHealthOrder } from '../view';
import { $, Api, Chart, EChartsOption, api, echarts, esc, fmt, live, panel, pct, refresher, riskWord, setup, showAge, t } from './common';
import type { TextKey } from './words';

type Kpi = Api['/api/grid/kpi'];
type Capacity = Api['/api/grid/capacity'];
type Breakdowns = Api['/api/grid/breakdowns'];
type Health = Api['/api/grid/health'];
type Region = Breakdowns['byRegion'][number];

const charts: Record<string, Chart> = {};
const chart = (id: string) => (charts[id] ??= echarts.init($(`#${id}`), 'dark', { renderer: 'canvas' }));
window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));
const last: { kpi?: Kpi; capacity?: Capacity; breakdowns?: Breakdowns; health?: Health } = {};
const health = { sort: 'health_score', order: 'asc' as 'asc' | 'desc', region: '', type: '', risk: '' };
const AXIS = { axisLabel: { color: '#8ea3c0' }, axisLine: { lineStyle: { color: '#1d3557' } }, splitLine: { lineStyle: { color: '#1d3557' } } };
const BASE = {
  backgroundColor: 'transparent',
  textStyle: { fontFamily: 'Noto Sans CJK SC, sans-serif' },
  grid: { left: 50, right: 50, top: 40, bottom: 30 },
  tooltip: { trigger: 'axis' },
} satisfies EChartsOption;

function kpi(d: Kpi): void {
  last.kpi = d;
  const set = (id: string, v: string) => {
    $(`[data-testid="${id}"]`).textContent = v;
  };
  const k = d.kpis;
  set('kpi-equipment-total', k ? fmt(k.equipmentTotal) : '—');
  set('kpi-running-total', k ? fmt(k.runningTotal) : '—');
  set('kpi-installed-capacity', k ? fmt(k.installedCapacityMw, 2) : '—');
  set('kpi-current-load', k ? fmt(k.currentLoadMw, 3) : '—');
  set('kpi-utilization', k ? `${t('utilization')} ${pct(k.utilization)}` : '');
  set('kpi-alarm-count', k ? fmt(k.alarmCount) : '—');
  set('kpi-attention-count', k ? fmt(k.attentionCount) : '—');
  showAge($('#data-age'), d.ageMs, 'updated');
}

function capacity(d: Capacity): void {
  last.capacity = d;
  showAge($('[data-age="capacity"]'), d.ageMs);
  $('[data-testid="capacity-table"] tbody').innerHTML = d.regions
    .map(
      (r) => `<tr class="${r.level}" data-region="${esc(r.region)}">
      <td>${esc(r.region)}</td><td class="num">${fmt(r.installedCapacityMw, 2)}</td><td class="num">${fmt(r.currentLoadMw, 3)}</td>
      <td class="num">${pct(r.utilization)}</td><td class="num">${fmt(r.headroomMw, 3)}</td>
      <td>${r.overloadAlert ? `<span class="badge risk-告警">${t('overloadYes')}</span>` : ''}</td></tr>`,
    )
    .join('');
  const regions = [...d.regions].sort((a, b) => a.region.localeCompare(b.region));
  const option: EChartsOption = {
    ...BASE,
    legend: { top: 0, data: [t('installedCap'), t('currentLoad'), t('utilization')], textStyle: { color: '#dce6f5' } },
    xAxis: { type: 'category', data: regions.map((r) => r.region), ...AXIS },
    yAxis: [
      { type: 'value', name: 'MW', ...AXIS },
      { type: 'value', name: '%', max: (v: { max: number }) => Math.max(100, Math.ceil(v.max / 10) * 10), ...AXIS, splitLine: { show: false } },
    ],
    series: [
      { name: t('installedCap'), type: 'bar', data: regions.map((r) => r.installedCapacityMw), itemStyle: { color: '#3ba0ff' } },
      // The series' own colour is the legend's; overloaded regions' bars are red.
      {
        name: t('currentLoad'),
        type: 'bar',
        itemStyle: { color: '#36cfc9' },
        data: regions.map((r) => ({ value: r.currentLoadMw, itemStyle: { color: r.overloadAlert ? '#ff4d4f' : '#36cfc9' } })),
      },
      {
        name: t('utilization'),
        type: 'line',
        yAxisIndex: 1,
        data: regions.map((r) => (r.utilization === null ? null : +(r.utilization * 100).toFixed(1))),
        itemStyle: { color: '#f5a623' },
        markLine: { silent: true, symbol: 'none', data: [{ yAxis: 85 }], lineStyle: { color: '#ff4d4f', type: 'dashed' }, label: { formatter: '85%' } },
      },
    ],
  };
  chart('capacity-chart').setOption(option, true);
}

function breakdowns(d: Breakdowns): void {
  last.breakdowns = d;
  showAge($('[data-age="breakdowns"]'), d.ageMs);
  showAge($('[data-age="regions"]'), d.ageMs);
  const byType: EChartsOption = {
    ...BASE,
    legend: { top: 0, data: [t('count'), t('running'), t('capacityMw')], textStyle: { color: '#dce6f5' } },
    xAxis: { type: 'category', data: d.byType.map((r) => r.equipmentType), ...AXIS },
    yAxis: [{ type: 'value', ...AXIS }, { type: 'value', name: 'MW', ...AXIS, splitLine: { show: false } }],
    series: [
      { name: t('count'), type: 'bar', data: d.byType.map((r) => r.equipmentCount), itemStyle: { color: '#3ba0ff' } },
      { name: t('running'), type: 'bar', data: d.byType.map((r) => r.runningCount), itemStyle: { color: '#2ecc71' } },
      { name: t('capacityMw'), type: 'line', yAxisIndex: 1, data: d.byType.map((r) => r.totalCapacityMw), itemStyle: { color: '#f5a623' } },
    ],
  };
  chart('type-chart').setOption(byType, true);
  const byVoltage: EChartsOption = {
    ...BASE,
    legend: { top: 0, data: [t('count'), t('capacityMw')], textStyle: { color: '#dce6f5' } },
    xAxis: { type: 'category', data: d.byVoltage.map((r) => `${r.voltageLevelKv} kV`), ...AXIS },
    yAxis: [{ type: 'value', ...AXIS }, { type: 'value', name: 'MW', ...AXIS, splitLine: { show: false } }],
    series: [
      { name: t('count'), type: 'bar', data: d.byVoltage.map((r) => r.equipmentCount), itemStyle: { color: '#9b59b6' } },
      { name: t('capacityMw'), type: 'line', yAxisIndex: 1, data: d.byVoltage.map((r) => r.totalCapacityMw), itemStyle: { color: '#f5a623' } },
    ],
  };
  chart('voltage-chart').setOption(byVoltage, true);
  const regions = d.byRegion;
  const parts: Array<[TextKey, (r: Region) => number, string]> = [
    ['running', (r) => r.runningCount, '#2ecc71'],
    ['maintenance', (r) => r.maintenanceCount, '#f5a623'],
    ['outage', (r) => r.outageCount, '#ff4d4f'],
    // 备用 (standby) and anything else: the rest of the region's equipment.
    ['other', (r) => r.equipmentCount - r.runningCount - r.maintenanceCount - r.outageCount, '#9aa5b1'],
  ];
  const byRegion: EChartsOption = {
    ...BASE,
    grid: { left: 60, right: 20, top: 40, bottom: 30 },
    legend: { top: 0, data: [t('running'), t('maintenance'), t('outage'), t('other')], textStyle: { color: '#dce6f5' } },
    yAxis: { type: 'category', data: regions.map((r) => r.region), ...AXIS },
    xAxis: { type: 'value', ...AXIS },
    series: parts.map(([key, value, color]) => ({ name: t(key), type: 'bar' as const, stack: 'status', data: regions.map(value), itemStyle: { color } })),
  };
  chart('region-chart').setOption(byRegion, true);
}

function options(select: HTMLSelectElement, values: readonly string[], current: string, label?: (v: string) => string): void {
  select.innerHTML = [
    `<option value="">${t('all')}</option>`,
    ...values.map((v) => `<option value="${esc(v)}"${v === current ? ' selected' : ''}>${esc(label ? label(v) : v)}</option>`),
  ].join('');
}

function healthList(d: Health): void {
  last.health = d;
  showAge($('[data-age="health"]'), d.ageMs);
  options($('#f-region'), d.regions, health.region);
  options($('#f-type'), d.types, health.type);
  options($('#f-risk'), RISK_LEVELS, health.risk, riskWord);
  $('#health-count').textContent = t('showing')(d.rows.length, d.matching, d.total);
  document.querySelectorAll<HTMLElement>('#health-panel th.sortable').forEach((th) => {
    th.classList.toggle('sorted', th.dataset.sort === health.sort);
    th.classList.toggle('desc', th.dataset.sort === health.sort && health.order === 'desc');
  });
  $('[data-testid="health-table"] tbody').innerHTML = d.rows
    .map(
      (r) => `<tr data-equipment-id="${esc(r.equipmentId)}">
      <td>${esc(r.equipmentId)}</td><td>${esc(r.equipmentName)}</td><td>${esc(r.equipmentType)}</td><td>${esc(r.region)}</td><td>${esc(r.status)}</td>
      <td class="num">${fmt(r.latestLoadMw, 3)}</td><td class="num">${pct(r.loadRatio)}</td><td class="num">${fmt(r.latestTemperatureC, 2)}</td>
      <td class="num" data-field="health-score">${r.healthScore}</td><td><span class="badge risk-${esc(r.riskLevel)}">${esc(riskWord(r.riskLevel))}</span></td></tr>`,
    )
    .join('');
}

const loadKpi = () => panel('kpi-panel', async () => kpi(await api('/api/grid/kpi')));
const loadCapacity = () => panel('capacity-panel', async () => capacity(await api('/api/grid/capacity')));
const loadBreakdowns = () => panel('breakdown-panel', async () => breakdowns(await api('/api/grid/breakdowns')));
const loadHealth = () =>
  panel('health-panel', async () => {
    const q: Record<string, string> = { sort: health.sort, order: health.order, limit: '100' };
    for (const k of ['region', 'type', 'risk'] as const) if (health[k]) q[k] = health[k];
    healthList(await api('/api/grid/health', q));
  });
const loadAll = () => Promise.all([loadKpi(), loadCapacity(), loadBreakdowns(), loadHealth()]);

for (const [id, key] of [['f-region', 'region'], ['f-type', 'type'], ['f-risk', 'risk']] as const) {
  const select = $<HTMLSelectElement>(`#${id}`);
  select.addEventListener('change', () => {
    health[key] = select.value;
    void loadHealth();
  });
}
document.querySelectorAll<HTMLElement>('#health-panel th.sortable').forEach((th) =>
  th.addEventListener('click', () => {
    const col = th.dataset.sort ?? '';
    health.order = health.sort === col ? (health.order === 'asc' ? 'desc' : 'asc') : defaultHealthOrder(col);
    health.sort = col;
    void loadHealth();
  }),
);

setup(() => {
  if (last.kpi) kpi(last.kpi);
  if (last.capacity) capacity(last.capacity);
  if (last.breakdowns) breakdowns(last.breakdowns);
  if (last.health) healthList(last.health);
});
// A change in the sink (or a reconnect) fetches every panel again: no reload, no timer of our own.
live(refresher(loadAll));
void loadAll();
