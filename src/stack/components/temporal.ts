/**
 * The Temporal dev server (`temporal server start-dev`) with SQLite persistence, the Web UI, and
 * gridflow's search attributes registered.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import axios from 'axios';
import { SEARCH_ATTRIBUTE_TYPES } from '../../constants';
import { Component } from '../component';
import { Health, healthy, unhealthy } from '../health';
import { readPid, startDetached } from '../process';
import { ensureReachable, handOver, userEnv } from '../privilege';

async function withConnection<T>(address: string, fn: (c: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address, connectTimeout: 3000 });
  try {
    return await fn(connection);
  } finally {
    await connection.close();
  }
}

/** Custom search attributes gridflow needs that the namespace does not have yet. */
async function missingSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const res = await connection.operatorService.listSearchAttributes({ namespace });
  const have = new Set(Object.keys(res.customAttributes ?? {}));
  return Object.keys(SEARCH_ATTRIBUTE_TYPES).filter((name) => !have.has(name));
}

/** Idempotent: registers only what is missing (for a shared Temporal cluster as much as the local one). */
async function ensureSearchAttributes(address: string, namespace: string): Promise<string[]> {
  return withConnection(address, async (connection) => {
    const missing = await missingSearchAttributes(connection, namespace);
    if (missing.length) {
      const searchAttributes: Record<string, temporal.api.enums.v1.IndexedValueType> = {};
      for (const name of missing) searchAttributes[name] = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
    }
    return missing;
  });
}

export function temporalComponent(opts: { host: string; port: number; uiPort: number; namespace: string; home: string }): Component {
  const name = 'temporal';
  const address = `${opts.host}:${opts.port}`;
  return {
    name,
    address: `${address} (UI http://${opts.host}:${opts.uiPort})`,
    logFile: path.join(opts.home, 'logs', `${name}.log`),
    dataDirs: [path.join(opts.home, 'temporal')],
    pid: (ctx) => readPid(ctx.layout.pidFile(name)),
    async start(ctx) {
      fs.mkdirSync(path.dirname(ctx.layout.temporalDb), { recursive: true });
      const bin = ctx.artifacts().temporalBin;
      // As the stack's unprivileged user when gridflow runs as root (privilege.ts).
      const user = ctx.user();
      if (user) {
        ensureReachable(ctx.layout.home, user, ctx.config.home);
        handOver([path.dirname(ctx.layout.temporalDb)], user);
      }
      startDetached({
        command: bin,
        args: [
          'server',
          'start-dev',
          '--ip', opts.host,
          '--port', String(opts.port),
          '--ui-ip', opts.host,
          '--ui-port', String(opts.uiPort),
          '--db-filename', ctx.layout.temporalDb,
          '--namespace', opts.namespace,
          '--log-level', 'warn',
          ...Object.entries(SEARCH_ATTRIBUTE_TYPES).flatMap(([k, t]) => ['--search-attribute', `${k}=${t}`]),
        ],
        logFile: ctx.layout.logFile(name),
        pidFile: ctx.layout.pidFile(name),
        cwd: path.dirname(ctx.layout.temporalDb),
        env: userEnv(process.env, user, path.join(ctx.layout.run, 'home')),
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      });
    },
    async health(): Promise<Health> {
      const detail = await withConnection(address, async (connection) => {
        const info = await connection.workflowService.getSystemInfo({});
        const missing = await missingSearchAttributes(connection, opts.namespace);
        return { version: info.serverVersion, missing };
      });
      const ui = await axios.get(`http://${opts.host}:${opts.uiPort}/`, { timeout: 3000, validateStatus: () => true });
      if (ui.status !== 200) return unhealthy(`server ${detail.version} answers, but the Web UI answered ${ui.status}`);
      const sa = detail.missing.length ? `; search attributes to register: ${detail.missing.join(', ')}` : '';
      return healthy(`server ${detail.version}, namespace ${opts.namespace}, UI up${sa}`);
    },
    async afterHealthy(ctx) {
      const added = await ensureSearchAttributes(address, opts.namespace);
      if (added.length) ctx.progress(`temporal: registered search attributes ${added.join(', ')}`);
    },
  };
}
