/* gridflow dashboard, shared by both pages: language (Chinese first, English on request), fetching a
 * panel's JSON, ages that keep counting between fetches, and the live stream (/api/live) that says when
 * to fetch again. The words for ages follow src/dashboard/view.ts describeAge (unit-tested there). */
'use strict';

window.GF = (() => {
  const params = new URLSearchParams(location.search);
  const saved = (() => { try { return localStorage.getItem('gridflow.lang'); } catch { return null; } })();
  let lang = params.get('lang') === 'en' || params.get('lang') === 'zh' ? params.get('lang') : saved === 'en' ? 'en' : 'zh';
  const pipeline = params.get('pipeline');

  const WORDS = {
    zh: {
      gridTitle: '国家电网设备实时监控大屏', pipelineTitle: '实时数仓管道运行状态', navGrid: '电网大屏', navPipeline: '数据管道',
      toggle: 'English', live: '实时', liveOff: '已断开，重连中', updated: '数据更新于', read: '读取于',
      equipmentTotal: '设备总数', runningTotal: '运行设备', installed: '装机容量', load: '当前负荷', alarm: '告警设备', attention: '关注设备',
      capacity: '各区域容量规划', region: '区域', installedCap: '装机容量 (MW)', currentLoad: '当前负荷 (MW)', utilization: '利用率', headroom: '余量 (MW)', overload: '过载告警',
      overloadYes: '过载', noData: '无数据', health: '设备健康状况', equipmentId: '设备编号', name: '设备名称', type: '类型', status: '状态',
      ratedCap: '额定容量', loadRatio: '负载率', temperature: '温度 (°C)', score: '健康分', risk: '风险等级', all: '全部',
      showing: (n, m, t) => `显示 ${n} 条，筛选 ${m} / 共 ${t} 台`, byType: '按设备类型', byRegion: '按区域', byVoltage: '按电压等级',
      count: '设备数', running: '运行', maintenance: '检修', outage: '停运', other: '其他', capacityMw: '总容量 (MW)',
      state: '管道状态', reason: '原因', version: '版本', observed: '观测于', jobs: '作业', job: '作业', flinkState: 'Flink 状态',
      checkpoint: '最近检查点', savepoint: '最近保存点', restarts: '重启次数', lastError: '最近错误', freshness: '数据新鲜度（端到端延迟）',
      latency: '延迟 (秒)', verifications: '最近校验', started: '开始', result: '结果', summary: '摘要', pass: '通过', fail: '未通过', runningRun: '进行中',
      alerts: '告警', events: '事件日志', kind: '类型', message: '内容', at: '时间', none: '无', temporalUi: 'Temporal 界面', flinkUi: 'Flink 界面',
      statusError: '状态查询失败', lag: '滞后', freshnessShort: '新鲜度', verificationDots: '校验', pipelineLabel: '管道',
      risks: { '告警': '告警', '关注': '关注', '正常': '正常' },
    },
    en: {
      gridTitle: 'SGCC grid — real-time equipment monitoring', pipelineTitle: 'Real-time warehouse pipeline', navGrid: 'Grid', navPipeline: 'Pipeline',
      toggle: '中文', live: 'live', liveOff: 'disconnected, reconnecting', updated: 'data updated', read: 'read',
      equipmentTotal: 'Equipment', runningTotal: 'Running', installed: 'Installed capacity', load: 'Current load', alarm: 'Alarms', attention: 'Attention',
      capacity: 'Capacity planning by region', region: 'Region', installedCap: 'Installed (MW)', currentLoad: 'Load (MW)', utilization: 'Utilisation', headroom: 'Headroom (MW)', overload: 'Overload',
      overloadYes: 'overload', noData: 'no data', health: 'Equipment health', equipmentId: 'ID', name: 'Name', type: 'Type', status: 'Status',
      ratedCap: 'Rated (MW)', loadRatio: 'Load ratio', temperature: 'Temp (°C)', score: 'Score', risk: 'Risk', all: 'all',
      showing: (n, m, t) => `showing ${n}, ${m} match of ${t}`, byType: 'By equipment type', byRegion: 'By region', byVoltage: 'By voltage level',
      count: 'equipment', running: 'running', maintenance: 'maintenance', outage: 'outage', other: 'other', capacityMw: 'capacity (MW)',
      state: 'State', reason: 'Reason', version: 'version', observed: 'observed', jobs: 'Jobs', job: 'Job', flinkState: 'Flink state',
      checkpoint: 'Last checkpoint', savepoint: 'Last savepoint', restarts: 'Restarts', lastError: 'Last error', freshness: 'Freshness (end-to-end latency)',
      latency: 'latency (s)', verifications: 'Last verifications', started: 'Started', result: 'Result', summary: 'Summary', pass: 'pass', fail: 'FAIL', runningRun: 'running',
      alerts: 'Alerts', events: 'Event log', kind: 'Kind', message: 'Message', at: 'At', none: 'none', temporalUi: 'Temporal UI', flinkUi: 'Flink UI',
      statusError: 'status query failed', lag: 'behind', freshnessShort: 'freshness', verificationDots: 'verifications', pipelineLabel: 'pipeline',
      risks: { '告警': 'alarm', '关注': 'attention', '正常': 'normal' },
    },
  };
  const t = (key) => WORDS[lang][key] ?? key;

  /** Same wording and thresholds as src/dashboard/view.ts describeAge / ageLevel. */
  function describeAge(ms) {
    if (ms === null || ms === undefined || !Number.isFinite(ms)) return lang === 'zh' ? '无数据' : 'no data';
    ms = Math.max(0, ms);
    if (ms < 2000) return lang === 'zh' ? '刚刚' : 'just now';
    const s = Math.floor(ms / 1000);
    if (s < 60) return lang === 'zh' ? `${s} 秒前` : `${s} s ago`;
    const m = Math.floor(s / 60);
    if (m < 60) return lang === 'zh' ? `${m} 分钟前` : `${m} min ago`;
    const h = Math.floor(m / 60);
    if (h < 48) return lang === 'zh' ? `${h} 小时前` : `${h} h ago`;
    return lang === 'zh' ? `${Math.floor(h / 24)} 天前` : `${Math.floor(h / 24)} days ago`;
  }
  function ageLevel(ms) {
    if (ms === null || ms === undefined || !Number.isFinite(ms)) return 'none';
    return ms < 30000 ? 'fresh' : ms < 300000 ? 'stale' : 'old';
  }

  /** Elements showing an age: the age the server measured plus the time since we received it. */
  const ages = [];
  function showAge(el, ageMs, prefix) {
    const entry = ages.find((a) => a.el === el) ?? { el };
    entry.ageMs = ageMs; entry.at = performance.now(); entry.prefix = prefix;
    if (!ages.includes(entry)) ages.push(entry);
    renderAge(entry);
  }
  function renderAge(a) {
    const now = a.ageMs === null || a.ageMs === undefined ? null : a.ageMs + (performance.now() - a.at);
    a.el.textContent = `${a.prefix ? `${t(a.prefix)} ` : ''}${describeAge(now)}`;
    a.el.className = `age ${ageLevel(now)}`;
    a.el.dataset.ageMs = now === null ? '' : String(Math.round(now));
  }
  setInterval(() => ages.forEach(renderAge), 1000);

  async function api(path, extra) {
    const q = new URLSearchParams(extra || {});
    if (pipeline) q.set('pipeline', pipeline);
    const res = await fetch(`${path}${q.toString() ? `?${q}` : ''}`, { cache: 'no-store' });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || `${path}: HTTP ${res.status}`);
    return body;
  }

  /** Run `fn` for a panel, showing its error in the panel instead of breaking the page. */
  async function panel(id, fn) {
    const box = document.getElementById(id);
    const err = box && box.querySelector('.error');
    // Cleared first: fn may itself put a message there (the status query's error beside a last-known state).
    if (err) err.textContent = '';
    try {
      await fn();
    } catch (e) {
      if (err) err.textContent = String(e.message || e);
    }
  }

  function applyWords() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    const btn = document.getElementById('lang');
    if (btn) btn.textContent = t('toggle');
    ages.forEach(renderAge);
  }

  /** The live stream: calls onChange when the sink moved; the dot says whether we are connected. */
  function live(onChange) {
    const dot = document.getElementById('live-dot');
    const label = document.getElementById('live-label');
    const q = pipeline ? `?pipeline=${encodeURIComponent(pipeline)}` : '';
    const source = new EventSource(`/api/live${q}`);
    const set = (on) => { dot.className = `dot ${on ? 'on' : 'off'}`; label.dataset.i18n = on ? 'live' : 'liveOff'; label.textContent = t(label.dataset.i18n); };
    source.addEventListener('open', () => set(true));
    source.addEventListener('error', () => set(false));
    source.addEventListener('change', (e) => { set(true); onChange(JSON.parse(e.data)); });
    source.addEventListener('tick', () => set(true));
    return source;
  }

  /** Fetch again on every change, one fetch at a time; a change during a fetch fetches once more after it. */
  function refresher(load) {
    let loading = false;
    let again = false;
    return async () => {
      if (loading) { again = true; return; }
      loading = true;
      try {
        do { again = false; await load(); } while (again);
      } finally {
        loading = false;
      }
    };
  }

  function setup(onLang) {
    const btn = document.getElementById('lang');
    btn.addEventListener('click', () => {
      lang = lang === 'zh' ? 'en' : 'zh';
      try { localStorage.setItem('gridflow.lang', lang); } catch { /* private mode */ }
      applyWords();
      onLang();
    });
    document.querySelectorAll('header nav a').forEach((a) => { if (pipeline) a.href += `?pipeline=${encodeURIComponent(pipeline)}`; });
    applyWords();
  }

  const fmt = (v, digits = 0) => (v === null || v === undefined ? '—' : Number(v).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
  const pct = (v) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`);
  const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const time = (ms) => (ms ? new Date(ms).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false }) : '—');

  return { t, get lang() { return lang; }, api, panel, showAge, describeAge, live, refresher, setup, fmt, pct, esc, time };
})();
