/** Each platform's documented payload shape, and what its answers mean. */
import { Notification } from '../../../src/core/alerts';
import { KEYWORD, WECOM_MAX_BYTES, dingtalkMessage, feishuMessage, formatMessage, genericMessage, judgeResponse, truncateBytes, wecomMessage } from '../../../src/core/alert-formats';

const T0 = Date.UTC(2026, 11, 4, 8, 0, 0);
const firing: Notification = {
  id: 'firing:overload:华北:1',
  pipeline: 'sgcc',
  kind: 'firing',
  rule: 'overload',
  severity: 'critical',
  keys: ['overload:华北'],
  title: 'region overloaded',
  lines: ['华北 overloaded: utilization 0.9312 (load 931.20 MW of 1000.00 MW installed)'],
  at: T0,
};
const resolved: Notification = { ...firing, id: 'resolved:overload:华北:2', kind: 'resolved', severity: 'info', title: 'resolved: region overloaded', at: T0 + 90_000, since: T0 };
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('message formats', () => {
  test('generic JSON: stable fields, ISO times, firing/resolved status', () => {
    expect(genericMessage(firing)).toEqual({
      source: 'gridflow',
      version: 1,
      id: firing.id,
      pipeline: 'sgcc',
      status: 'firing',
      kind: 'firing',
      rule: 'overload',
      severity: 'critical',
      title: '[gridflow sgcc] 告警 region overloaded',
      text: firing.lines[0],
      lines: firing.lines,
      keys: ['overload:华北'],
      at: '2026-12-04T08:00:00Z',
      since: null,
    });
    expect(genericMessage(resolved)).toMatchObject({ status: 'resolved', since: '2026-12-04T08:00:00Z', at: '2026-12-04T08:01:30Z' });
  });

  test('DingTalk: msgtype markdown with title and text; the keyword is in both', () => {
    const m = dingtalkMessage(firing);
    expect(Object.keys(m).sort()).toEqual(['markdown', 'msgtype']);
    expect(m.msgtype).toBe('markdown');
    expect(Object.keys(m.markdown).sort()).toEqual(['text', 'title']);
    expect(m.markdown.title).toContain(KEYWORD);
    expect(m.markdown.text).toMatch(/^#### \[gridflow sgcc\] 告警 region overloaded\n/);
    expect(m.markdown.text).toContain('- 华北 overloaded');
    expect(dingtalkMessage(resolved).markdown.title).toBe('[gridflow sgcc] 已恢复 resolved: region overloaded');
  });

  test('WeCom: msgtype markdown with content only; colour warning when firing, info when resolved', () => {
    const m = wecomMessage(firing);
    expect(Object.keys(m).sort()).toEqual(['markdown', 'msgtype']);
    expect(Object.keys(m.markdown)).toEqual(['content']);
    expect(m.markdown.content).toMatch(/^### <font color="warning">\[gridflow sgcc\] 告警 region overloaded<\/font>\n/);
    expect(wecomMessage(resolved).markdown.content).toContain('<font color="info">');
  });

  test('WeCom content stays within 4096 UTF-8 bytes, cut at a character and marked', () => {
    const long = { ...firing, lines: Array.from({ length: 400 }, (_, i) => `设备 GEN-${i} 告警，健康分 40`) };
    const content = wecomMessage(long).markdown.content;
    expect(bytes(content)).toBeLessThanOrEqual(WECOM_MAX_BYTES);
    expect(content.endsWith('…(truncated)')).toBe(true);
    expect(content).not.toContain('\uFFFD');
  });

  test('Feishu: an interactive card, red header firing, green resolved, lark_md body', () => {
    const m = feishuMessage(firing);
    expect(m.msg_type).toBe('interactive');
    expect(m.card.header).toEqual({ title: { tag: 'plain_text', content: '[gridflow sgcc] 告警 region overloaded' }, template: 'red' });
    expect(m.card.elements[0]).toEqual({ tag: 'div', text: { tag: 'lark_md', content: `- ${firing.lines[0]}` } });
    expect(feishuMessage(resolved).card.header.template).toBe('green');
    expect(feishuMessage({ ...firing, severity: 'warning' }).card.header.template).toBe('orange');
  });

  test('formatMessage picks by format', () => {
    expect(formatMessage(firing, 'generic')).toHaveProperty('source', 'gridflow');
    expect(formatMessage(firing, 'dingtalk')).toHaveProperty('msgtype', 'markdown');
    expect(formatMessage(firing, 'wecom')).toHaveProperty('markdown.content');
    expect(formatMessage(firing, 'feishu')).toHaveProperty('msg_type', 'interactive');
  });

  test('truncateBytes leaves short text alone', () => {
    expect(truncateBytes('华北', 10)).toBe('华北');
  });
});

describe('webhook answers', () => {
  test.each([
    ['generic', 200, '', { ok: true }],
    ['generic', 204, '', { ok: true }],
    ['dingtalk', 200, '{"errcode":0,"errmsg":"ok"}', { ok: true }],
    ['wecom', 200, '{"errcode":0,"errmsg":"ok"}', { ok: true }],
    ['feishu', 200, '{"code":0,"msg":"success","data":{}}', { ok: true }],
    ['feishu', 200, '{"StatusCode":0,"StatusMessage":"success"}', { ok: true }],
  ] as const)('%s %d %s: delivered', (format, status, body, verdict) => {
    expect(judgeResponse(format, status, body)).toEqual(verdict);
  });

  test.each([
    ['generic', 500, true],
    ['generic', 503, true],
    ['generic', 429, true],
    ['generic', 408, true],
    ['generic', 400, false],
    ['generic', 404, false],
    ['generic', 401, false],
    ['dingtalk', 502, true],
  ] as const)('%s HTTP %d: retry %s', (format, status, retry) => {
    const v = judgeResponse(format, status, 'nope');
    expect(v).toMatchObject({ ok: false, retry });
  });

  test.each([
    ['dingtalk', '{"errcode":310000,"errmsg":"sign not match"}', false, /dingtalk refused the message: code 310000 sign not match/],
    ['dingtalk', '{"errcode":130101,"errmsg":"send too fast"}', true, /rate limited/],
    ['wecom', '{"errcode":93000,"errmsg":"invalid webhook url"}', false, /code 93000/],
    ['wecom', '{"errcode":45009,"errmsg":"api freq out of limit"}', true, /rate limited/],
    ['feishu', '{"code":19021,"msg":"sign match fail"}', false, /code 19021/],
    ['feishu', '{"code":9499,"msg":"Bad Request"}', false, /code 9499/],
    ['feishu', '{"code":11232,"msg":"frequency limited"}', true, /rate limited/],
    ['dingtalk', '<html>proxy</html>', true, /not JSON/],
  ] as const)('%s answers 200 %s: retry %s', (format, body, retry, reason) => {
    const v = judgeResponse(format, 200, body);
    expect(v).toMatchObject({ ok: false, retry });
    expect(v.ok ? '' : v.reason).toMatch(reason);
  });
});
