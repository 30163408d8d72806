/* The pipeline page: its state and reason, each job (Flink state, checkpoints, savepoints, restarts),
 * freshness over time (gridflow.probe_log), the last verifications, alerts and the event log. */
'use strict';

(() => {
  const { t, api, panel, showAge, fmt, esc, time, describeAge } = GF;
  let freshnessChart;
  const last = {};
  const ago = (x) => (x ? `${time(x.at)} (${describeAge(x.ageMs)})` : '—');

  function status(d) {
    last.status = d;
    document.getElementById('pipeline-name').textContent = d.pipeline;
    document.getElementById('temporal-link').href = d.links.temporalWorkflow;
    document.getElementById('flink-link').href = d.links.flinkUi;
    document.querySelector('[data-testid="status-error"]').textContent = d.error ? `${t('statusError')}: ${d.error}` : '';
    for (const key of ['status', 'jobs', 'alerts']) showAge(document.querySelector(`[data-age="${key}"]`), d.ageMs, 'observed');
    const s = d.status;
    const state = document.querySelector('[data-testid="pipeline-state"]');
    state.textContent = s ? s.state : '—';
    state.className = `state lvl-${s ? s.level : 'unknown'}`;
    document.querySelector('[data-testid="pipeline-reason"]').textContent = s ? s.reason ?? t('none') : '—';
    const lag = s && s.freshness && s.freshness.lagMs !== null ? `${t('lag')} ${fmt(s.freshness.lagMs / 1000, 1)} s` : '';
    document.getElementById('pipeline-version').textContent = s ? [`${t('version')} ${s.version}`, lag].filter(Boolean).join(' · ') : '';
    document.querySelector('[data-testid="jobs-table"] tbody').innerHTML = (s ? s.jobs : []).map((j) => `<tr data-job="${esc(j.job)}">
      <td>${j.flinkLink ? `<a href="${esc(j.flinkLink)}" target="_blank" rel="noopener">${esc(j.flinkName)}</a>` : esc(j.flinkName)}</td>
      <td data-field="flink-state">${esc(j.flinkState ?? '—')}</td>
      <td>${ago(j.lastCheckpoint)}</td><td>${j.lastSavepoint ? `${ago(j.lastSavepoint)} <span class="muted">${esc(j.lastSavepoint.reason ?? '')}</span>` : '—'}</td>
      <td class="num">${j.restartsInWindow}</td><td class="muted">${esc(j.lastError ?? '')}</td></tr>`).join('');
    document.querySelector('[data-testid="alerts"]').innerHTML = s && s.alerts.length
      ? s.alerts.map((a) => `<li><span class="badge risk-告警">${esc(a.kind)}</span> ${esc(a.message)} <span class="muted">${esc(describeAge(a.ageMs))}</span></li>`).join('')
      : `<li class="muted">${t('none')}</li>`;
  }

  function freshness(d) {
    last.freshness = d;
    showAge(document.querySelector('[data-age="freshness"]'), d.ageMs);
    freshnessChart ??= echarts.init(document.getElementById('freshness-chart'), 'dark');
    freshnessChart.setOption({
      backgroundColor: 'transparent',
      grid: { left: 50, right: 20, top: 50, bottom: 40 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'time', min: d.readAt - d.minutes * 60000, max: d.readAt, axisLabel: { color: '#8ea3c0' } },
      yAxis: { type: 'value', name: t('latency'), axisLabel: { color: '#8ea3c0' }, splitLine: { lineStyle: { color: '#1d3557' } } },
      legend: { top: 0, data: [t('latency'), t('verificationDots')], textStyle: { color: '#dce6f5' } },
      series: [
        { name: t('latency'), type: 'line', showSymbol: d.points.length < 50, data: d.points.map((p) => [p.sentAt, +(p.latencyMs / 1000).toFixed(3)]), itemStyle: { color: '#36cfc9' }, areaStyle: { opacity: 0.15 } },
        // Each verification's own probe (gridflow.verification_runs), red when the run failed.
        { name: t('verificationDots'), type: 'scatter', symbolSize: 9,
          data: (last.verifications ? last.verifications.runs : []).filter((r) => r.freshnessMs !== null && r.startedAt >= d.readAt - d.minutes * 60000)
            .map((r) => ({ value: [r.startedAt, +(r.freshnessMs / 1000).toFixed(3)], itemStyle: { color: r.ok ? '#2ecc71' : '#ff4d4f' } })) },
      ],
    }, true);
  }

  function verifications(d) {
    last.verifications = d;
    if (last.freshness) freshness(last.freshness);
    showAge(document.querySelector('[data-age="verifications"]'), d.ageMs);
    document.querySelector('[data-testid="verifications-table"] tbody').innerHTML = d.runs.map((r) => `<tr>
      <td>${time(r.startedAt)}</td><td class="${r.ok === null ? 'lvl-busy' : r.ok ? 'lvl-ok' : 'lvl-bad'}">${r.ok === null ? t('runningRun') : r.ok ? t('pass') : t('fail')}</td>
      <td class="num">${r.freshnessMs === null ? '—' : `${fmt(r.freshnessMs / 1000, 2)} s`}</td><td class="muted">${esc(r.summary ?? '')}</td></tr>`).join('') || `<tr><td colspan="4" class="muted">${t('none')}</td></tr>`;
  }

  function events(d) {
    last.events = d;
    showAge(document.querySelector('[data-age="events"]'), d.ageMs);
    document.querySelector('[data-testid="events-table"] tbody').innerHTML = d.events.map((e) => `<tr>
      <td>${time(e.at)}</td><td>${esc(e.kind)}</td><td style="white-space: normal">${esc(e.message)}</td></tr>`).join('') || `<tr><td colspan="3" class="muted">${t('none')}</td></tr>`;
  }

  const loadAll = () => Promise.all([
    panel('state-panel', async () => status(await api('/api/pipeline'))),
    panel('freshness-panel', async () => freshness(await api('/api/pipeline/freshness'))),
    panel('verifications-panel', async () => verifications(await api('/api/pipeline/verifications'))),
    panel('events-panel', async () => events(await api('/api/pipeline/events'))),
  ]);
  window.addEventListener('resize', () => freshnessChart && freshnessChart.resize());
  GF.setup(() => {
    if (last.status) status(last.status);
    if (last.freshness) freshness(last.freshness);
    if (last.verifications) verifications(last.verifications);
    if (last.events) events(last.events);
  });
  // The sink's changes (probes, verifications, events) come by the live stream; the workflow's state
  // is not in the sink, so it is asked for again every 5 s as well.
  GF.live(GF.refresher(loadAll));
  setInterval(() => void panel('state-panel', async () => status(await api('/api/pipeline'))), 5000);
  void loadAll();
})();
