/**
 * One alert notification as each webhook platform wants it, and what its answer means. Pure (no I/O):
 * the delivery activity (src/activities/alerts.ts) adds the platforms' signatures and POSTs the body.
 *
 *   generic   gridflow's own JSON (stable field names, version 1) for any HTTP receiver
 *   dingtalk  custom robot (自定义机器人): { msgtype: 'markdown', markdown: { title, text } };
 *             answers HTTP 200 { errcode, errmsg }, errcode 0 = sent
 *   wecom     企业微信 group robot: { msgtype: 'markdown', markdown: { content } }, content at most 4096
 *             bytes (UTF-8); answers HTTP 200 { errcode, errmsg }
 *   feishu    custom bot: { msg_type: 'interactive', card: { header, elements } } (a coloured header:
 *             red firing, green resolved); answers { code, msg } (older: { StatusCode, StatusMessage })
 */
import type { WebhookFormat } from './spec';
import type { Notification, Severity } from './alerts';

/** Every message carries this word: DingTalk and Feishu robots guarded by "custom keywords" need one. */
export const KEYWORD = 'gridflow';

/** WeCom refuses markdown content longer than this many bytes. */
export const WECOM_MAX_BYTES = 4096;
/** DingTalk and Feishu take more, but a message people read stays well under it. */
const MAX_BYTES = 16_000;

const SEVERITY_ZH: Record<Severity, string> = { critical: '严重', warning: '警告', info: '信息' };
const KIND_ZH: Record<Notification['kind'], string> = { firing: '告警', resolved: '已恢复', event: '事件', test: '测试' };

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** "[gridflow sgcc] 告警 region overloaded": the same head line on every platform. */
function headline(n: Notification): string {
  return `[${KEYWORD} ${n.pipeline}] ${KIND_ZH[n.kind]} ${n.title}`;
}

function utf8Bytes(text: string): number {
  let n = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

/** Cut `text` to at most `max` UTF-8 bytes at a character boundary, saying that it was cut. */
export function truncateBytes(text: string, max: number): string {
  if (utf8Bytes(text) <= max) return text;
  const tail = '\n…(truncated)';
  const budget = max - utf8Bytes(tail);
  let out = '';
  let n = 0;
  for (const ch of text) {
    const b = utf8Bytes(ch);
    if (n + b > budget) break;
    out += ch;
    n += b;
  }
  return out + tail;
}

/** Markdown-ish body lines shared by DingTalk, WeCom and Feishu. */
function detailLines(n: Notification): string[] {
  const lines = n.lines.map((l) => `- ${l}`);
  const meta = [`pipeline: ${n.pipeline}`, `severity: ${n.severity} (${SEVERITY_ZH[n.severity]})`, `at: ${iso(n.at)}`];
  if (n.since !== undefined && n.kind === 'resolved') meta.push(`since: ${iso(n.since)}`);
  return [...lines, '', ...meta.map((m) => `> ${m}`)];
}

interface GenericMessage {
  source: 'gridflow';
  version: 1;
  id: string;
  pipeline: string;
  status: 'firing' | 'resolved';
  kind: Notification['kind'];
  rule: Notification['rule'];
  severity: Severity;
  title: string;
  text: string;
  lines: string[];
  keys: string[];
  at: string;
  since: string | null;
}

export function genericMessage(n: Notification): GenericMessage {
  return {
    source: 'gridflow',
    version: 1,
    id: n.id,
    pipeline: n.pipeline,
    status: n.kind === 'resolved' ? 'resolved' : 'firing',
    kind: n.kind,
    rule: n.rule,
    severity: n.severity,
    title: headline(n),
    text: n.lines.join('\n'),
    lines: n.lines,
    keys: n.keys,
    at: iso(n.at),
    since: n.since === undefined ? null : iso(n.since),
  };
}

export function dingtalkMessage(n: Notification): { msgtype: 'markdown'; markdown: { title: string; text: string } } {
  const text = [`#### ${headline(n)}`, '', ...detailLines(n)].join('\n');
  return { msgtype: 'markdown', markdown: { title: headline(n), text: truncateBytes(text, MAX_BYTES) } };
}

export function wecomMessage(n: Notification): { msgtype: 'markdown'; markdown: { content: string } } {
  // WeCom colours: warning (orange), info (green), comment (grey).
  const colour = n.kind === 'resolved' || n.kind === 'test' ? 'info' : 'warning';
  const text = [`### <font color="${colour}">${headline(n)}</font>`, ...detailLines(n)].join('\n');
  return { msgtype: 'markdown', markdown: { content: truncateBytes(text, WECOM_MAX_BYTES) } };
}

interface FeishuCard {
  msg_type: 'interactive';
  card: {
    config: { wide_screen_mode: true };
    header: { title: { tag: 'plain_text'; content: string }; template: 'red' | 'orange' | 'green' | 'blue' };
    elements: Array<{ tag: 'div'; text: { tag: 'lark_md'; content: string } } | { tag: 'hr' } | { tag: 'note'; elements: Array<{ tag: 'plain_text'; content: string }> }>;
  };
}

export function feishuMessage(n: Notification): FeishuCard {
  const template = n.kind === 'resolved' ? 'green' : n.kind === 'test' ? 'blue' : n.severity === 'critical' ? 'red' : 'orange';
  const meta = [`pipeline ${n.pipeline}`, `severity ${n.severity}`, iso(n.at)];
  if (n.since !== undefined && n.kind === 'resolved') meta.push(`since ${iso(n.since)}`);
  return {
    msg_type: 'interactive',
    card: {
      config: { wide_screen_mode: true },
      header: { title: { tag: 'plain_text', content: headline(n) }, template },
      elements: [
        { tag: 'div', text: { tag: 'lark_md', content: truncateBytes(n.lines.map((l) => `- ${l}`).join('\n'), MAX_BYTES) } },
        { tag: 'hr' },
        { tag: 'note', elements: [{ tag: 'plain_text', content: meta.join(' · ') }] },
      ],
    },
  };
}

/** The JSON body for `format` (signatures are added by the activity). */
export function formatMessage(n: Notification, format: WebhookFormat): object {
  switch (format) {
    case 'dingtalk':
      return dingtalkMessage(n);
    case 'wecom':
      return wecomMessage(n);
    case 'feishu':
      return feishuMessage(n);
    default:
      return genericMessage(n);
  }
}

// ---------------------------------------------------------------------------------------- answers

/** What a webhook's answer means: delivered, try again later, or never (a retry cannot help). */
type Verdict = { ok: true } | { ok: false; retry: boolean; reason: string };

/** Platform codes that mean "too many messages, slow down": worth retrying. */
const RATE_LIMITED: Record<WebhookFormat, ReadonlySet<number>> = {
  generic: new Set(),
  dingtalk: new Set([130101, 130102]),
  wecom: new Set([45009, 45033]),
  feishu: new Set([11232]),
};

/**
 * Judge an HTTP answer. Transport errors never get here (always retried). 408, 429 and 5xx: retry.
 * Any other 4xx: never (the URL, token or body is wrong; retrying for a day changes nothing). A 2xx
 * from a platform robot still carries the platform's own code: 0 is sent, a rate limit is retried,
 * anything else (bad signature, keyword missing, robot removed) is refused for good.
 */
export function judgeResponse(format: WebhookFormat, status: number, body: string): Verdict {
  const snippet = body.length > 300 ? `${body.slice(0, 300)}…` : body;
  if (status === 408 || status === 429 || status >= 500) return { ok: false, retry: true, reason: `HTTP ${status}: ${snippet}` };
  if (status < 200 || status >= 300) return { ok: false, retry: false, reason: `HTTP ${status} (will not succeed on retry): ${snippet}` };
  if (format === 'generic') return { ok: true };
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return { ok: false, retry: true, reason: `HTTP ${status} with a body that is not JSON: ${snippet}` };
  }
  const code = format === 'feishu' ? (parsed.code ?? parsed.StatusCode) : parsed.errcode;
  const message = format === 'feishu' ? (parsed.msg ?? parsed.StatusMessage) : parsed.errmsg;
  if (code === 0 || code === '0') return { ok: true };
  if (typeof code !== 'number') return { ok: false, retry: true, reason: `HTTP ${status} without a ${format} result code: ${snippet}` };
  const reason = `${format} refused the message: code ${code} ${String(message ?? '')}`.trim();
  return RATE_LIMITED[format].has(code) ? { ok: false, retry: true, reason: `${reason} (rate limited)` } : { ok: false, retry: false, reason };
}
