/* The grid page: KPI tiles (ads_grid_dashboard), capacity planning (ads_capacity_planning), the
 * equipment health list (ads_equipment_health) and the DWS breakdowns, each from its /api/grid route. */
'use strict';

(() => {
  const { t, api, panel, showAge, fmt, pct, esc } = GF;
  const charts = {};
  const chart = (id) => (charts[id] ??= echarts.init(document.getElementById(id), 'dark', { renderer: 'canvas' }));
  window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));
  const last = {};
  const health = { sort: 'health_score', order: 'asc', region: '', type: '', risk: '' };
  const AXIS = { axisLabel: { color: '#8ea3c0' }, axisLine: { lineStyle: { color: '#1d3557' } }, splitLine: { lineStyle: { color: '#1d3557' } } };
  const BASE = { backgroundColor: 'transparent', textStyle: { fontFamily: 'Noto Sans CJK SC, sans-serif' }, grid: { left: 50, right: 50, top: 40, bottom: 30 }, tooltip: { trigger: 'axis' } };

  function kpi(d) {
    last.kpi = d;
    const set = (id, v) => { document.querySelector(`[data-testid="${id}"]`).textContent = v; };
    const k = d.kpis;
    set('kpi-equipment-total', k ? fmt(k.equipmentTotal) : '—');
    set('kpi-running-total', k ? fmt(k.runningTotal) : '—');
    set('kpi-installed-capacity', k ? fmt(k.installedCapacityMw, 2) : '—');
    set('kpi-current-load', k ? fmt(k.currentLoadMw, 3) : '—');
    set('kpi-utilization', k ? `${t('utilization')} ${pct(k.utilization)}` : '');
    set('kpi-alarm-count', k ? fmt(k.alarmCount) : '—');
    set('kpi-attention-count', k ? fmt(k.attentionCount) : '—');
    showAge(document.getElementById('data-age'), d.ageMs, 'updated');
  }

  function capacity(d) {
    last.capacity = d;
    showAge(document.querySelector('[data-age="capacity"]'), d.ageMs);
    const body = document.querySelector('[data-testid="capacity-table"] tbody');
    body.innerHTML = d.regions.map((r) => `<tr class="${r.level}" data-region="${esc(r.region)}">
      <td>${esc(r.region)}</td><td class="num">${fmt(r.installedCapacityMw, 2)}</td><td class="num">${fmt(r.currentLoadMw, 3)}</td>
      <td class="num">${pct(r.utilization)}</td><td class="num">${fmt(r.headroomMw, 3)}</td>
      <td>${r.overloadAlert ? `<span class="badge risk-告警">${t('overloadYes')}</span>` : ''}</td></tr>`).join('');
    const regions = [...d.regions].sort((a, b) => a.region.localeCompare(b.region));
    chart('capacity-chart').setOption({
      ...BASE,
      legend: { top: 0, data: [t('installedCap'), t('currentLoad'), t('utilization')], textStyle: { color: '#dce6f5' } },
      xAxis: { type: 'category', data: regions.map((r) => r.region), ...AXIS },
      yAxis: [{ type: 'value', name: 'MW', ...AXIS }, { type: 'value', name: '%', max: (v) => Math.max(100, Math.ceil(v.max / 10) * 10), ...AXIS, splitLine: { show: false } }],
      series: [
        { name: t('installedCap'), type: 'bar', data: regions.map((r) => r.installedCapacityMw), itemStyle: { color: '#3ba0ff' } },
        // The series' own colour is the legend's; overloaded regions' bars are red.
        { name: t('currentLoad'), type: 'bar', itemStyle: { color: '#36cfc9' }, data: regions.map((r) => ({ value: r.currentLoadMw, itemStyle: { color: r.overloadAlert ? '#ff4d4f' : '#36cfc9' } })) },
        { name: t('utilization'), type: 'line', yAxisIndex: 1, data: regions.map((r) => (r.utilization === null ? null : +(r.utilization * 100).toFixed(1))),
          itemStyle: { color: '#f5a623' }, markLine: { silent: true, symbol: 'none', data: [{ yAxis: 85 }], lineStyle: { color: '#ff4d4f', type: 'dashed' }, label: { formatter: '85%' } } },
      ],
    }, true);
  }

  function breakdowns(d) {
    last.breakdowns = d;
    showAge(document.querySelector('[data-age="breakdowns"]'), d.ageMs);
    showAge(document.querySelector('[data-age="regions"]'), d.ageMs);
    chart('type-chart').setOption({
      ...BASE,
      legend: { top: 0, data: [t('count'), t('running'), t('capacityMw')], textStyle: { color: '#dce6f5' } },
      xAxis: { type: 'category', data: d.byType.map((r) => r.equipmentType), ...AXIS },
      yAxis: [{ type: 'value', ...AXIS }, { type: 'value', name: 'MW', ...AXIS, splitLine: { show: false } }],
      series: [
        { name: t('count'), type: 'bar', data: d.byType.map((r) => r.equipmentCount), itemStyle: { color: '#3ba0ff' } },
        { name: t('running'), type: 'bar', data: d.byType.map((r) => r.runningCount), itemStyle: { color: '#2ecc71' } },
        { name: t('capacityMw'), type: 'line', yAxisIndex: 1, data: d.byType.map((r) => r.totalCapacityMw), itemStyle: { color: '#f5a623' } },
      ],
    }, true);
    chart('voltage-chart').setOption({
      ...BASE,
      legend: { top: 0, data: [t('count'), t('capacityMw')], textStyle: { color: '#dce6f5' } },
      xAxis: { type: 'category', data: d.byVoltage.map((r) => `${r.voltageLevelKv} kV`), ...AXIS },
      yAxis: [{ type: 'value', ...AXIS }, { type: 'value', name: 'MW', ...AXIS, splitLine: { show: false } }],
      series: [
        { name: t('count'), type: 'bar', data: d.byVoltage.map((r) => r.equipmentCount), itemStyle: { color: '#9b59b6' } },
        { name: t('capacityMw'), type: 'line', yAxisIndex: 1, data: d.byVoltage.map((r) => r.totalCapacityMw), itemStyle: { color: '#f5a623' } },
      ],
    }, true);
    const regions = d.byRegion;
    chart('region-chart').setOption({
      ...BASE,
      grid: { left: 60, right: 20, top: 40, bottom: 30 },
      legend: { top: 0, data: [t('running'), t('maintenance'), t('outage'), t('other')], textStyle: { color: '#dce6f5' } },
      yAxis: { type: 'category', data: regions.map((r) => r.region), ...AXIS },
      xAxis: { type: 'value', ...AXIS },
      series: [
        ['running', (r) => r.runningCount, '#2ecc71'],
        ['maintenance', (r) => r.maintenanceCount, '#f5a623'],
        ['outage', (r) => r.outageCount, '#ff4d4f'],
        // 备用 (standby) and anything else: the rest of the region's equipment.
        ['other', (r) => r.equipmentCount - r.runningCount - r.maintenanceCount - r.outageCount, '#9aa5b1'],
      ].map(([key, value, color]) => ({ name: t(key), type: 'bar', stack: 'status', data: regions.map(value), itemStyle: { color } })),
    }, true);
  }

  function options(select, values, current, label) {
    select.innerHTML = [`<option value="">${t('all')}</option>`, ...values.map((v) => `<option value="${esc(v)}"${v === current ? ' selected' : ''}>${esc(label ? label(v) : v)}</option>`)].join('');
  }

  function healthList(d) {
    last.health = d;
    showAge(document.querySelector('[data-age="health"]'), d.ageMs);
    options(document.getElementById('f-region'), d.regions, health.region);
    options(document.getElementById('f-type'), d.types, health.type);
    options(document.getElementById('f-risk'), ['告警', '关注', '正常'], health.risk, (v) => t('risks')[v]);
    document.getElementById('health-count').textContent = t('showing')(d.rows.length, d.matching, d.total);
    document.querySelectorAll('#health-panel th.sortable').forEach((th) => {
      th.classList.toggle('sorted', th.dataset.sort === health.sort);
      th.classList.toggle('desc', th.dataset.sort === health.sort && health.order === 'desc');
    });
    document.querySelector('[data-testid="health-table"] tbody').innerHTML = d.rows.map((r) => `<tr data-equipment-id="${esc(r.equipmentId)}">
      <td>${esc(r.equipmentId)}</td><td>${esc(r.equipmentName)}</td><td>${esc(r.equipmentType)}</td><td>${esc(r.region)}</td><td>${esc(r.status)}</td>
      <td class="num">${fmt(r.latestLoadMw, 3)}</td><td class="num">${pct(r.loadRatio)}</td><td class="num">${fmt(r.latestTemperatureC, 2)}</td>
      <td class="num" data-field="health-score">${r.healthScore}</td><td><span class="badge risk-${esc(r.riskLevel)}">${esc(t('risks')[r.riskLevel] ?? r.riskLevel)}</span></td></tr>`).join('');
  }

  const loadKpi = () => panel('kpi-panel', async () => kpi(await api('/api/grid/kpi')));
  const loadCapacity = () => panel('capacity-panel', async () => capacity(await api('/api/grid/capacity')));
  const loadBreakdowns = () => panel('breakdown-panel', async () => breakdowns(await api('/api/grid/breakdowns')));
  const loadHealth = () => panel('health-panel', async () => {
    const q = { sort: health.sort, order: health.order, limit: '100' };
    for (const k of ['region', 'type', 'risk']) if (health[k]) q[k] = health[k];
    healthList(await api('/api/grid/health', q));
  });
  const loadAll = () => Promise.all([loadKpi(), loadCapacity(), loadBreakdowns(), loadHealth()]);

  for (const [id, key] of [['f-region', 'region'], ['f-type', 'type'], ['f-risk', 'risk']]) {
    document.getElementById(id).addEventListener('change', (e) => { health[key] = e.target.value; void loadHealth(); });
  }
  document.querySelectorAll('#health-panel th.sortable').forEach((th) => th.addEventListener('click', () => {
    const col = th.dataset.sort;
    health.order = health.sort === col ? (health.order === 'asc' ? 'desc' : 'asc') : (col === 'health_score' || col === 'equipment_id' || col === 'equipment_name' ? 'asc' : 'desc');
    health.sort = col;
    void loadHealth();
  }));

  GF.setup(() => {
    if (last.kpi) kpi(last.kpi);
    if (last.capacity) capacity(last.capacity);
    if (last.breakdowns) breakdowns(last.breakdowns);
    if (last.health) healthList(last.health);
  });
  // A change in the sink (or a reconnect) fetches every panel again: no reload, no timer of our own.
  GF.live(GF.refresher(loadAll));
  void loadAll();
})();
