/**
 * Where a spec's webhook names point. A spec says `alerts: { webhooks: [{ name: ops, format: dingtalk }] }`;
 * the worker maps `ops` to a URL (and an optional signing secret) from its own configuration, never from
 * the spec or a workflow input:
 *
 *   GRIDFLOW_WEBHOOK_OPS=https://oapi.dingtalk.com/robot/send?access_token=…
 *   GRIDFLOW_WEBHOOK_OPS_SECRET=SEC…            (DingTalk 加签 / Feishu 签名校验; optional)
 *   GRIDFLOW_WEBHOOKS=/etc/gridflow/webhooks.json  {"ops": {"url": "https://…", "secret": "…"}}
 *
 * The environment wins over the file. URLs carry tokens (access_token=, key=, a Feishu hook id): every
 * part of them is handed to the redactor (src/secrets.ts) the moment it is read.
 */
import * as fs from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './config';
import { IDENTIFIER } from './constants';
import { rememberSecret } from './secrets';

export interface Webhook {
  name: string;
  url: string;
  secret?: string;
}

const webhookEnvName = (name: string) => `GRIDFLOW_WEBHOOK_${name.toUpperCase()}`;

const WebhooksFile = z.record(
  z.string().regex(IDENTIFIER, 'a webhook name'),
  z.object({ url: z.string().url().refine((u) => /^https?:\/\//.test(u), 'an http(s) URL'), secret: z.string().min(1).optional() }).strict(),
);

/** Every piece of a webhook URL that could be a credential: the whole URL, its query values, its path segments. */
function rememberWebhookSecrets(hook: Pick<Webhook, 'url' | 'secret'>): void {
  rememberSecret(hook.url);
  rememberSecret(hook.secret);
  try {
    const u = new URL(hook.url);
    for (const v of u.searchParams.values()) rememberSecret(v);
    for (const seg of u.pathname.split('/')) if (seg.length >= 16) rememberSecret(seg);
    rememberSecret(u.password);
  } catch {
    /* not a URL: refused by the caller */
  }
}

export function resolveWebhook(name: string, env: NodeJS.ProcessEnv = process.env): Webhook {
  if (!IDENTIFIER.test(name)) throw new ConfigError(`webhook name ${JSON.stringify(name)} must match ${IDENTIFIER}`);
  const key = webhookEnvName(name);
  const fromEnv = env[key];
  if (fromEnv) {
    const secret = env[`${key}_SECRET`] || undefined;
    rememberWebhookSecrets({ url: fromEnv, secret });
    if (!/^https?:\/\/[^\s]+$/.test(fromEnv)) throw new ConfigError(`${key} must be an http(s) URL`);
    return { name, url: fromEnv, ...(secret ? { secret } : {}) };
  }
  const file = env.GRIDFLOW_WEBHOOKS;
  if (file) {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`invalid configuration: GRIDFLOW_WEBHOOKS: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (raw && typeof raw === 'object') {
      for (const v of Object.values(raw as Record<string, { url?: unknown; secret?: unknown }>)) {
        if (v && typeof v.url === 'string') rememberWebhookSecrets({ url: v.url, secret: typeof v.secret === 'string' ? v.secret : undefined });
      }
    }
    const parsed = WebhooksFile.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError(`invalid configuration: GRIDFLOW_WEBHOOKS (${file}) ${issue.path.join('.')}: ${issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')}` : issue.message}`);
    }
    const hit = Object.prototype.hasOwnProperty.call(parsed.data, name) ? parsed.data[name] : undefined;
    if (hit) return { name, url: hit.url, ...(hit.secret ? { secret: hit.secret } : {}) };
  }
  throw new ConfigError(`webhook ${name} is not configured on this worker: set ${key}=https://… (and ${key}_SECRET for a signing secret) or add it to the GRIDFLOW_WEBHOOKS file`);
}
