/**
 * The local stack's roles and their passwords. Generated once, kept in GRIDFLOW_HOME/connections.env
 * (mode 0600) as connection URLs, which is also where `resolveConnection` finds them. Nothing else
 * stores a password: workflows carry the connection names below.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { GridflowConfig, connectionEnvName, parseEnvFile } from '../config';
import { Layout } from './layout';

export const LOCAL_ROLES = {
  admin: 'gridflow_admin',
  cdc: 'gridflow_cdc',
  writer: 'gridflow_writer',
  /** The dashboard's: SELECT on what the sink role creates in the sink database, nothing else. */
  reader: 'gridflow_reader',
} as const;

export const LOCAL_DATABASES = { source: 'sgcc_source', sink: 'sgcc_dw' } as const;

/** Connection names the local stack defines (what a PipelineSpec refers to). */
export const LOCAL_CONNECTIONS = {
  sourceAdmin: 'source_admin',
  sourceCdc: 'source_cdc',
  sinkAdmin: 'sink_admin',
  sink: 'sink',
  /** Read-only on the sink (the dashboard's; never the owner's credentials). */
  sinkReader: 'sink_reader',
} as const;

export interface LocalPasswords {
  admin: string;
  cdc: string;
  writer: string;
  reader: string;
}

const PASSWORD_KEY = (role: string) => `GRIDFLOW_LOCAL_PASSWORD_${role.toUpperCase()}`;

function url(user: string, password: string, host: string, port: number, db: string): string {
  return `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/${db}`;
}

/** Read the stack's passwords, generating and writing them on first use. */
export function ensureLocalPasswords(config: GridflowConfig, paths: Layout): LocalPasswords {
  const existing = fs.existsSync(paths.connectionsFile) ? parseEnvFile(fs.readFileSync(paths.connectionsFile, 'utf8')) : {};
  const pick = (role: string) => existing[PASSWORD_KEY(role)] ?? randomBytes(18).toString('hex');
  const passwords: LocalPasswords = { admin: pick('admin'), cdc: pick('cdc'), writer: pick('writer'), reader: pick('reader') };
  const { host, ports } = config.stack;
  const lines = [
    '# Written by `gridflow stack up`: the local stack\'s connections. Keep private (mode 0600).',
    '# An environment variable of the same name overrides a line here.',
    `${PASSWORD_KEY('admin')}=${passwords.admin}`,
    `${PASSWORD_KEY('cdc')}=${passwords.cdc}`,
    `${PASSWORD_KEY('writer')}=${passwords.writer}`,
    `${PASSWORD_KEY('reader')}=${passwords.reader}`,
    `${connectionEnvName(LOCAL_CONNECTIONS.sourceAdmin)}=${url(LOCAL_ROLES.admin, passwords.admin, host, ports.postgresSource, LOCAL_DATABASES.source)}`,
    `${connectionEnvName(LOCAL_CONNECTIONS.sourceCdc)}=${url(LOCAL_ROLES.cdc, passwords.cdc, host, ports.postgresSource, LOCAL_DATABASES.source)}`,
    `${connectionEnvName(LOCAL_CONNECTIONS.sinkAdmin)}=${url(LOCAL_ROLES.admin, passwords.admin, host, ports.postgresSink, LOCAL_DATABASES.sink)}`,
    `${connectionEnvName(LOCAL_CONNECTIONS.sink)}=${url(LOCAL_ROLES.writer, passwords.writer, host, ports.postgresSink, LOCAL_DATABASES.sink)}`,
    `${connectionEnvName(LOCAL_CONNECTIONS.sinkReader)}=${url(LOCAL_ROLES.reader, passwords.reader, host, ports.postgresSink, LOCAL_DATABASES.sink)}`,
    '',
  ];
  fs.mkdirSync(paths.home, { recursive: true });
  fs.writeFileSync(paths.connectionsFile, lines.join('\n'), { mode: 0o600 });
  fs.chmodSync(paths.connectionsFile, 0o600);
  return passwords;
}
