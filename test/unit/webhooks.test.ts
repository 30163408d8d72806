/** Webhook names resolve to URLs from the worker's configuration only; every part of a URL is a secret to the redactor. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHmac } from 'node:crypto';
import { signed } from '../../src/activities/alerts';
import { redact } from '../../src/core/redact';
import { knownSecrets } from '../../src/secrets';
import { resolveWebhook } from '../../src/webhooks';

describe('resolveWebhook', () => {
  test('GRIDFLOW_WEBHOOK_<NAME> with an optional _SECRET; the token is then redacted anywhere', () => {
    const env = { GRIDFLOW_WEBHOOK_OPS: 'https://oapi.dingtalk.com/robot/send?access_token=4f1e2d3c4b5a69788796a5b4c3d2e1f0', GRIDFLOW_WEBHOOK_OPS_SECRET: 'SECabcdef0123456789' };
    expect(resolveWebhook('ops', env)).toEqual({ name: 'ops', url: env.GRIDFLOW_WEBHOOK_OPS, secret: 'SECabcdef0123456789' });
    const line = redact('POST failed for token 4f1e2d3c4b5a69788796a5b4c3d2e1f0 with SECabcdef0123456789', knownSecrets());
    expect(line).not.toContain('4f1e2d3c4b5a69788796a5b4c3d2e1f0');
    expect(line).not.toContain('SECabcdef0123456789');
  });

  test('a WeCom key= and a Feishu hook id are redacted too', () => {
    resolveWebhook('wx', { GRIDFLOW_WEBHOOK_WX: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa' });
    resolveWebhook('fs', { GRIDFLOW_WEBHOOK_FS: 'https://open.feishu.cn/open-apis/bot/v2/hook/0f4c2e9a-8b1d-4c3e-9f00-1a2b3c4d5e6f' });
    const line = redact('key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa hook/0f4c2e9a-8b1d-4c3e-9f00-1a2b3c4d5e6f', knownSecrets());
    expect(line).not.toContain('693a91f6-7xxx');
    expect(line).not.toContain('0f4c2e9a-8b1d');
  });

  test('the GRIDFLOW_WEBHOOKS file; the environment wins over it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-hooks-'));
    const file = path.join(dir, 'webhooks.json');
    fs.writeFileSync(file, JSON.stringify({ ops: { url: 'https://example.invalid/a' }, oncall: { url: 'https://example.invalid/b', secret: 's3cr3t-value' } }));
    try {
      expect(resolveWebhook('oncall', { GRIDFLOW_WEBHOOKS: file })).toEqual({ name: 'oncall', url: 'https://example.invalid/b', secret: 's3cr3t-value' });
      expect(resolveWebhook('ops', { GRIDFLOW_WEBHOOKS: file, GRIDFLOW_WEBHOOK_OPS: 'http://127.0.0.1:9/x' }).url).toBe('http://127.0.0.1:9/x');
      fs.writeFileSync(file, JSON.stringify({ ops: { url: 'ftp://x' } }));
      expect(() => resolveWebhook('ops', { GRIDFLOW_WEBHOOKS: file })).toThrow(/GRIDFLOW_WEBHOOKS .* ops\.url: an http\(s\) URL/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a name not configured says how to configure it', () => {
    expect(() => resolveWebhook('ops', {})).toThrow(/webhook ops is not configured on this worker: set GRIDFLOW_WEBHOOK_OPS=https:\/\/… .*GRIDFLOW_WEBHOOKS/);
    expect(() => resolveWebhook('ops', { GRIDFLOW_WEBHOOK_OPS: 'not a url' })).toThrow(/GRIDFLOW_WEBHOOK_OPS must be an http\(s\) URL/);
  });
});

describe('platform signatures', () => {
  const now = 1_700_000_000_123;
  test('DingTalk 加签: timestamp (ms) and sign = base64 HMAC-SHA256(secret, timestamp\\nsecret) in the query', () => {
    const { url } = signed({ name: 'd', url: 'https://oapi.dingtalk.com/robot/send?access_token=t', secret: 'SEC1' }, 'dingtalk', {}, now);
    const u = new URL(url);
    expect(u.searchParams.get('access_token')).toBe('t');
    expect(u.searchParams.get('timestamp')).toBe(String(now));
    expect(u.searchParams.get('sign')).toBe(createHmac('sha256', 'SEC1').update(`${now}\nSEC1`).digest('base64'));
  });

  test('Feishu 签名校验: timestamp (s) and sign = base64 HMAC-SHA256(key timestamp\\nsecret, "") in the body', () => {
    const { url, body } = signed({ name: 'f', url: 'https://open.feishu.cn/open-apis/bot/v2/hook/x', secret: 'k' }, 'feishu', { msg_type: 'interactive' }, now);
    expect(url).toBe('https://open.feishu.cn/open-apis/bot/v2/hook/x');
    const ts = String(Math.floor(now / 1000));
    expect(body).toEqual({ timestamp: ts, sign: createHmac('sha256', `${ts}\nk`).update('').digest('base64'), msg_type: 'interactive' });
  });

  test('no secret, or WeCom/generic: unchanged', () => {
    const hook = { name: 'w', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k' };
    expect(signed(hook, 'wecom', { a: 1 }, now)).toEqual({ url: hook.url, body: { a: 1 } });
    expect(signed({ ...hook, secret: 's' }, 'generic', { a: 1 }, now)).toEqual({ url: hook.url, body: { a: 1 } });
  });
});
