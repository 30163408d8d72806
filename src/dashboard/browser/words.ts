/**
 * The pages' words, Chinese first and English on request: the keys are the HTML's data-i18n names and
 * the scripts' t() keys. English must have every word Chinese has (its type is Chinese's). The words for
 * ages are not here: they are view.ts describeAge's, the same on the server and in the page.
 */
import type { Lang, RiskLevel } from '../view';

const zh = {
  gridTitle: '国家电网设备实时监控大屏', pipelineTitle: '实时数仓管道运行状态', navGrid: '电网大屏', navPipeline: '数据管道',
  toggle: 'English', live: '实时', liveOff: '已断开，重连中', updated: '数据更新于', read: '读取于',
  equipmentTotal: '设备总数', runningTotal: '运行设备', installed: '装机容量', load: '当前负荷', alarm: '告警设备', attention: '关注设备',
  capacity: '各区域容量规划', region: '区域', installedCap: '装机容量 (MW)', currentLoad: '当前负荷 (MW)', utilization: '利用率', headroom: '余量 (MW)', overload: '过载告警',
  overloadYes: '过载', noData: '无数据', health: '设备健康状况', equipmentId: '设备编号', name: '设备名称', type: '类型', status: '状态',
  ratedCap: '额定容量', loadRatio: '负载率', temperature: '温度 (°C)', score: '健康分', risk: '风险等级', all: '全部',
  showing: (n: number, m: number, t: number) => `显示 ${n} 条，筛选 ${m} / 共 ${t} 台`, byType: '按设备类型', byRegion: '按区域', byVoltage: '按电压等级',
  count: '设备数', running: '运行', maintenance: '检修', outage: '停运', other: '其他', capacityMw: '总容量 (MW)',
  state: '管道状态', reason: '原因', version: '版本', observed: '观测于', jobs: '作业', job: '作业', flinkState: 'Flink 状态',
  checkpoint: '最近检查点', savepoint: '最近保存点', restarts: '重启次数', lastError: '最近错误', freshness: '数据新鲜度（端到端延迟）',
  latency: '延迟 (秒)', verifications: '最近校验', started: '开始', result: '结果', summary: '摘要', pass: '通过', fail: '未通过', runningRun: '进行中',
  alerts: '告警', events: '事件日志', kind: '类型', message: '内容', at: '时间', none: '无', temporalUi: 'Temporal 界面', flinkUi: 'Flink 界面',
  sink: '结果表', sinkDiffers: '与数据契约不一致', sinkEqual: '与数据契约一致，最近证明于', lastEqual: '最近一致于', since: '始于', notCompared: '尚未校验', repair: '修复',
  statusError: '状态查询失败', lag: '滞后', freshnessShort: '新鲜度', verificationDots: '校验', pipelineLabel: '管道',
  risks: { 告警: '告警', 关注: '关注', 正常: '正常' } satisfies Record<RiskLevel, string>,
};

export type Words = typeof zh;
export type WordKey = keyof Words;
/** The keys whose word is plain text (what data-i18n and the age prefixes name). */
export type TextKey = { [K in WordKey]: Words[K] extends string ? K : never }[WordKey];

const en: Words = {
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
  sink: 'Sink', sinkDiffers: 'differs from the contract', sinkEqual: 'equal to the contract, last proven', lastEqual: 'last equal', since: 'since', notCompared: 'not verified yet', repair: 'Repair',
  statusError: 'status query failed', lag: 'behind', freshnessShort: 'freshness', verificationDots: 'verifications', pipelineLabel: 'pipeline',
  risks: { 告警: 'alarm', 关注: 'attention', 正常: 'normal' },
};

export const WORDS: Record<Lang, Words> = { zh, en };
