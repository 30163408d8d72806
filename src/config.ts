/**
 * Process configuration: where the stack lives, which clusters (by name) gridflow may talk to, and how
 * connection names resolve to credentials. Read from the environment (GRIDFLOW_*), validated with zod; a bad value
 * fails with the variable named. Nothing here assumes the local stack: point the addresses at existing
 * clusters and gridflow drives those instead.
 */
import { rememberSecret } from './secrets';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { CLUSTER_NAME, HOST_PORTS, IDENTIFIER } from './constants';

const port = z.coerce.number().int().min(1).max(65535);
const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** Flink memory sizes as Flink writes them: 1024m, 2g. */
const memorySize = z.string().regex(/^\d+[mg]$/, 'a Flink memory size such as 1024m or 2g');

const FLUSS_BOOTSTRAP = z.string().regex(HOST_PORTS, 'host:port[,host:port...]');
const clusterName = z.string().regex(CLUSTER_NAME, 'a cluster name');

/**
 * GRIDFLOW_CLUSTERS: a JSON file naming the clusters beyond `local` a spec may use, e.g.
 * {"flink": {"prod": {"restUrl": "http://jm:8081", "gatewayUrl": "http://gw:8083"}},
 *  "fluss": {"prod": {"bootstrap": "fluss-1:9123,fluss-2:9123"}}}
 */
const ClustersFile = z
  .object({
    flink: z.record(clusterName, z.object({ restUrl: z.string().url(), gatewayUrl: z.string().url() }).strict()).default({}),
    fluss: z.record(clusterName, z.object({ bootstrap: FLUSS_BOOTSTRAP }).strict()).default({}),
  })
  .strict();

function readClustersFile(file: string): z.infer<typeof ClustersFile> {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`invalid configuration: GRIDFLOW_CLUSTERS: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = ClustersFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.join('.');
    const what = issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')}` : issue.message;
    throw new ConfigError(`invalid configuration: GRIDFLOW_CLUSTERS (${file})${where ? ` ${where}` : ''}: ${what}`);
  }
  return parsed.data;
}

/** An environment switch: 1/0, true/false, yes/no, on/off (anything else is left for zod to refuse). */
const toBoolean = (v: unknown) =>
  typeof v === 'string' ? ({ '1': true, true: true, yes: true, on: true, '0': false, false: false, no: false, off: false, '': false } as Record<string, boolean>)[v.toLowerCase()] ?? v : v;
const switchValue = z.preprocess(toBoolean, z.boolean({ invalid_type_error: 'true or false (1/0, yes/no)' }));

const StackSettings = z.object({
  host: z.string().default('127.0.0.1'),
  ports: z
    .object({
      postgresSource: port.default(15432),
      postgresSink: port.default(15433),
      zookeeper: port.default(2181),
      flussCoordinator: port.default(9123),
      flussTablet: port.default(9124),
      flinkRest: port.default(8081),
      flinkRpc: port.default(6123),
      sqlGateway: port.default(8083),
      temporal: port.default(7233),
      temporalUi: port.default(8233),
      /** Flink's Prometheus reporter on the JobManager (src/stack/java/reporter). */
      flinkJobManagerMetrics: port.default(9249),
      /** ... on taskmanager-1; taskmanager-N listens on this + N - 1 (up to 16 TaskManagers: 9250–9265). */
      flinkTaskManagerMetrics: port.default(9250),
      /** gridflow's own web dashboard (`gridflow dashboard`, src/dashboard). */
      dashboard: port.default(8090),
    })
    .default({}),
  taskManagers: count(1, 16).default(1),
  /**
   * Fluss tablet servers: three by default, with replication factor 3, as a production Fluss runs — what
   * survives one tablet server's loss (docs/RELIABILITY.md). One is allowed (less memory); a crash then
   * loses what was not yet on disk, and the pipeline says so (DEGRADED, naming the loss).
   */
  flussTablets: count(1, 9).default(3),
  /**
   * The exact-after-restore aggregates (sql/exact) first on the Flink classpath. Off only to measure
   * what they cost (bench/throughput.ts) or to show the restore hole they close: a job restored from a
   * checkpoint can then leave a change and its undo wrong in the sink for good (docs/RELIABILITY.md).
   */
  exactAggregates: switchValue.default(true),
  /** Fluss's default.replication.factor for new tables; unset: min(tablet servers, 3). */
  flussReplicationFactor: count(1, 9).optional(),
  slotsPerTaskManager: count(1, 64).default(8),
  jobManagerMemory: memorySize.default('1024m'),
  taskManagerMemory: memorySize.default('2048m'),
  /** How long `stack up` waits for one component to answer its health request. */
  startTimeoutSeconds: count(5, 3600).default(180),
});
type StackSettings = z.infer<typeof StackSettings>;

export const GridflowConfig = z.object({
  /** Stack folder: data dirs, configs, logs, pid files, local connection credentials. */
  home: z.string().min(1),
  /** Downloaded artifacts (Maven jars, the Temporal CLI), shared by every checkout on the machine. */
  cacheDir: z.string().min(1),
  stack: StackSettings,
  temporal: z.object({
    address: z.string().min(1),
    namespace: z.string().min(1).default('default'),
    /**
     * TLS to the frontend (Temporal Cloud, a secured cluster): on when any of these is set. caFile: the
     * CA the server certificate chains to (else the system's); certFile + keyFile: this client's
     * certificate (mTLS); serverName: the name to verify when the address is an IP or a proxy.
     */
    tls: z
      .object({
        enabled: switchValue.default(false),
        caFile: z.string().optional(),
        certFile: z.string().optional(),
        keyFile: z.string().optional(),
        serverName: z.string().optional(),
      })
      .default({}),
    /** An API key (Temporal Cloud): sent as a bearer token; implies TLS. Never logged. */
    apiKey: z.string().optional(),
  }),
  /** The `local` Flink cluster (the stack's, or GRIDFLOW_FLINK_REST / GRIDFLOW_SQL_GATEWAY). */
  flink: z.object({
    restUrl: z.string().url(),
    gatewayUrl: z.string().url(),
  }),
  /** The `local` Fluss cluster (the stack's, or GRIDFLOW_FLUSS_BOOTSTRAP). */
  fluss: z.object({ bootstrap: FLUSS_BOOTSTRAP }),
  /** Every cluster a spec may name: `local` above, plus those in the GRIDFLOW_CLUSTERS file. */
  clusters: z.object({
    flink: z.record(z.object({ restUrl: z.string().url(), gatewayUrl: z.string().url() }).strict()),
    fluss: z.record(z.object({ bootstrap: FLUSS_BOOTSTRAP }).strict()),
  }),
});
export type GridflowConfig = z.infer<typeof GridflowConfig>;

/** The repository root: the nearest folder above this file holding gridflow's package.json. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'gridflow') return dir;
      } catch {
        /* not ours; keep walking */
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find gridflow's package.json above ${__dirname}`);
    dir = parent;
  }
}

/** Environment variable → config path, so a validation error names the variable the operator set. */
const ENV_KEYS: Array<[string, string[]]> = [
  ['GRIDFLOW_HOME', ['home']],
  ['GRIDFLOW_CACHE', ['cacheDir']],
  ['GRIDFLOW_TASKMANAGERS', ['stack', 'taskManagers']],
  ['GRIDFLOW_FLUSS_TABLETS', ['stack', 'flussTablets']],
  ['GRIDFLOW_EXACT_AGGREGATES', ['stack', 'exactAggregates']],
  ['GRIDFLOW_FLUSS_REPLICATION', ['stack', 'flussReplicationFactor']],
  ['GRIDFLOW_SLOTS_PER_TASKMANAGER', ['stack', 'slotsPerTaskManager']],
  ['GRIDFLOW_JOBMANAGER_MEMORY', ['stack', 'jobManagerMemory']],
  ['GRIDFLOW_TASKMANAGER_MEMORY', ['stack', 'taskManagerMemory']],
  ['GRIDFLOW_START_TIMEOUT', ['stack', 'startTimeoutSeconds']],
  ['GRIDFLOW_DASHBOARD_PORT', ['stack', 'ports', 'dashboard']],
  ['GRIDFLOW_TEMPORAL_ADDRESS', ['temporal', 'address']],
  ['GRIDFLOW_TEMPORAL_NAMESPACE', ['temporal', 'namespace']],
  ['GRIDFLOW_TEMPORAL_TLS', ['temporal', 'tls', 'enabled']],
  ['GRIDFLOW_TEMPORAL_TLS_CA', ['temporal', 'tls', 'caFile']],
  ['GRIDFLOW_TEMPORAL_TLS_CERT', ['temporal', 'tls', 'certFile']],
  ['GRIDFLOW_TEMPORAL_TLS_KEY', ['temporal', 'tls', 'keyFile']],
  ['GRIDFLOW_TEMPORAL_TLS_SERVER_NAME', ['temporal', 'tls', 'serverName']],
  ['GRIDFLOW_TEMPORAL_API_KEY', ['temporal', 'apiKey']],
  ['GRIDFLOW_FLINK_REST', ['flink', 'restUrl']],
  ['GRIDFLOW_SQL_GATEWAY', ['flink', 'gatewayUrl']],
  ['GRIDFLOW_FLUSS_BOOTSTRAP', ['fluss', 'bootstrap']],
];

function setPath(target: Record<string, unknown>, keys: string[], value: unknown): void {
  let node = target;
  for (const key of keys.slice(0, -1)) {
    node[key] = (node[key] as Record<string, unknown> | undefined) ?? {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Build the configuration from an environment (process.env by default). Throws ConfigError. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): GridflowConfig {
  const raw: Record<string, unknown> = {};
  for (const [name, keys] of ENV_KEYS) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, keys, value);
  }
  const offset = env.GRIDFLOW_PORT_OFFSET ? Number(env.GRIDFLOW_PORT_OFFSET) : 0;
  if (!Number.isInteger(offset) || offset < 0 || offset > 50000) {
    throw new ConfigError(`invalid configuration: GRIDFLOW_PORT_OFFSET must be an integer 0..50000, got ${env.GRIDFLOW_PORT_OFFSET}`);
  }
  if (offset) {
    // A second stack beside the first (CI next to a developer's stack): every default port shifts.
    const defaults = StackSettings.parse({}).ports;
    const shifted: Record<string, number> = {};
    for (const [k, v] of Object.entries(defaults)) shifted[k] = v + offset;
    // A port set on its own (GRIDFLOW_DASHBOARD_PORT) wins over the shifted default.
    const explicit = ((raw.stack as Record<string, unknown> | undefined)?.ports ?? {}) as Record<string, unknown>;
    setPath(raw, ['stack', 'ports'], { ...shifted, ...explicit });
  }
  const stackParsed = StackSettings.safeParse(raw.stack ?? {});
  if (!stackParsed.success) throw new ConfigError(describeIssue(stackParsed.error, ['stack']));
  const stack = stackParsed.data;
  const host = stack.host;
  const home = (raw.home as string | undefined) ?? path.join(repoRoot(), '.gridflow');
  const cacheDir =
    (raw.cacheDir as string | undefined) ??
    path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'gridflow');
  const candidate = {
    home: path.resolve(home),
    cacheDir: path.resolve(cacheDir),
    stack,
    temporal: {
      address: `${host}:${stack.ports.temporal}`,
      ...((raw.temporal as object | undefined) ?? {}),
    },
    flink: {
      restUrl: `http://${host}:${stack.ports.flinkRest}`,
      gatewayUrl: `http://${host}:${stack.ports.sqlGateway}`,
      ...((raw.flink as object | undefined) ?? {}),
    },
    fluss: {
      bootstrap: `${host}:${stack.ports.flussCoordinator}`,
      ...((raw.fluss as object | undefined) ?? {}),
    },
  };
  const extra = env.GRIDFLOW_CLUSTERS ? readClustersFile(env.GRIDFLOW_CLUSTERS) : { flink: {}, fluss: {} };
  const parsed = GridflowConfig.safeParse({
    ...candidate,
    clusters: { flink: { local: candidate.flink, ...extra.flink }, fluss: { local: candidate.fluss, ...extra.fluss } },
  });
  if (!parsed.success) throw new ConfigError(describeIssue(parsed.error, []));
  // A file that redefines `local` wins for specs; keep config.flink/fluss the same cluster.
  return { ...parsed.data, flink: parsed.data.clusters.flink.local, fluss: parsed.data.clusters.fluss.local };
}

function describeIssue(error: z.ZodError, prefix: string[]): string {
  const issue = error.issues[0];
  const where = [...prefix, ...issue.path.map(String)];
  const envName = ENV_KEYS.find(([, keys]) => keys.join('.') === where.join('.'))?.[0];
  const field = envName ? `${envName} (${where.join('.')})` : where.join('.');
  return `invalid configuration: ${field}: ${issue.message}`;
}

// ---------------------------------------------------------------------------------------------
// Connections: workflows and specs carry connection *names*; credentials are resolved here, inside
// the worker or CLI process, from GRIDFLOW_PG_<NAME> or the local stack's connections.env.
// ---------------------------------------------------------------------------------------------

export interface PgConnection {
  name: string;
  host: string;
  port: number;
  database: string;
  user: string;
  /** Non-enumerable so that logging or serialising a connection never prints it. */
  readonly password: string;
  /** TLS, from the URL's `sslmode` and `sslrootcert` (libpq's names); absent = no TLS. */
  ssl?: PgTls;
}

/**
 * libpq's sslmode, as far as both clients gridflow drives can honour it: node-postgres (the worker,
 * the CLI) and pgjdbc / Debezium (inside Flink). `allow` and `prefer` (try TLS, fall back to plain)
 * cannot be done by node-postgres and are refused rather than silently weakened.
 */
const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
type SslMode = (typeof SSL_MODES)[number];

interface PgTls {
  mode: SslMode;
  /** CA certificate file (PEM) the server's certificate must chain to; the same path must exist where Flink runs. */
  rootCert?: string;
}

/** URL query parameters a GRIDFLOW_PG_* URL may carry; any other is an error, never silently dropped. */
const URL_PARAMETERS = ['sslmode', 'sslrootcert'];

function parseTls(name: string, params: URLSearchParams): PgTls | undefined {
  const env = connectionEnvName(name);
  const unknown = [...params.keys()].filter((k) => !URL_PARAMETERS.includes(k));
  if (unknown.length) throw new ConfigError(`${env}: unknown URL parameter ${unknown.join(', ')} (supported: ${URL_PARAMETERS.join(', ')})`);
  const mode = params.get('sslmode');
  const rootCert = params.get('sslrootcert') ?? undefined;
  if (mode === null) {
    if (rootCert) throw new ConfigError(`${env}: sslrootcert needs sslmode=verify-ca or verify-full`);
    return undefined;
  }
  if (mode === 'allow' || mode === 'prefer') {
    throw new ConfigError(`${env}: sslmode=${mode} (TLS only if the server offers it) is not supported; use require, verify-ca or verify-full, or disable`);
  }
  if (!(SSL_MODES as readonly string[]).includes(mode)) throw new ConfigError(`${env}: sslmode=${mode} is not one of ${SSL_MODES.join(', ')}`);
  if (mode === 'disable') {
    if (rootCert) throw new ConfigError(`${env}: sslrootcert with sslmode=disable makes no sense`);
    return undefined;
  }
  if ((mode === 'verify-ca' || mode === 'verify-full') && !rootCert) {
    throw new ConfigError(`${env}: sslmode=${mode} needs sslrootcert=/path/to/ca.pem (the CA the server's certificate chains to)`);
  }
  if (rootCert !== undefined) {
    if (!path.isAbsolute(rootCert)) throw new ConfigError(`${env}: sslrootcert must be an absolute path, got ${rootCert}`);
    if (!fs.existsSync(rootCert)) throw new ConfigError(`${env}: sslrootcert ${rootCert} does not exist`);
  }
  return { mode: mode as SslMode, ...(rootCert ? { rootCert } : {}) };
}

export function connectionEnvName(name: string): string {
  return `GRIDFLOW_PG_${name.toUpperCase()}`;
}

/** Parse KEY=VALUE lines (the local stack's connections.env). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) continue;
    out[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1).trim();
  }
  return out;
}

function connectionsFile(config: Pick<GridflowConfig, 'home'>): string {
  return path.join(config.home, 'connections.env');
}

/**
 * Resolve a connection name to credentials. The environment wins over the local stack's file, so an
 * operator points a name at production Postgres without touching the stack.
 */
export function resolveConnection(
  name: string,
  config: Pick<GridflowConfig, 'home'> = loadConfig(),
  env: NodeJS.ProcessEnv = process.env,
): PgConnection {
  if (!IDENTIFIER.test(name)) {
    throw new ConfigError(`connection name ${JSON.stringify(name)} must match ${IDENTIFIER}`);
  }
  const key = connectionEnvName(name);
  let url = env[key];
  if (!url) {
    const file = connectionsFile(config);
    if (fs.existsSync(file)) url = parseEnvFile(fs.readFileSync(file, 'utf8'))[key];
  }
  if (!url) {
    throw new ConfigError(
      `connection ${name} is not defined: set ${key}=postgres://user:password@host:port/database ` +
        `(or run \`gridflow stack up\`, which defines the local stack's connections in ${connectionsFile(config)})`,
    );
  }
  return parseConnectionUrl(name, url);
}

export function parseConnectionUrl(name: string, url: string): PgConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${connectionEnvName(name)} is not a URL (expected postgres://user:password@host:port/database)`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ConfigError(`${connectionEnvName(name)} must be a postgres:// URL, got ${parsed.protocol}//`);
  }
  const env = connectionEnvName(name);
  /** Percent-escapes decoded; a malformed one names the part (never its value: it may be the password). */
  const decoded = (part: string, raw: string) => {
    try {
      return decodeURIComponent(raw);
    } catch {
      throw new ConfigError(`${env}: the ${part} holds a malformed percent-escape (write % as %25)`);
    }
  };
  const database = decoded('database', parsed.pathname.replace(/^\//, ''));
  if (!database) throw new ConfigError(`${env} names no database`);
  if (database.includes('/')) throw new ConfigError(`${env}: the database name ${JSON.stringify(database)} holds a /`);
  const user = decoded('user name', parsed.username);
  if (!user) throw new ConfigError(`${env} names no user (postgres://user:password@host:port/database)`);
  const password = decoded('password', parsed.password);
  const ssl = parseTls(name, parsed.searchParams);
  // IPv6 literals come bracketed ([::1]); node-postgres and Debezium want the bare address.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new ConfigError(`${env} names no host`);
  const connection = {
    name,
    host,
    port: parsed.port ? Number(parsed.port) : 5432,
    database,
    user,
    ...(ssl ? { ssl } : {}),
  } as PgConnection;
  Object.defineProperty(connection, 'password', {
    value: password,
    enumerable: false,
  });
  rememberSecret(connection.password);
  return connection;
}

/**
 * The TLS and API-key options for a Temporal connection (client and worker take the same shape), or
 * nothing for the plain local dev server. Files are read here: a missing one is a ConfigError naming the
 * variable. Pure of secrets in its errors.
 */
export function temporalConnectionOptions(config: Pick<GridflowConfig, 'temporal'>): {
  tls?: { serverNameOverride?: string; serverRootCACertificate?: Buffer; clientCertPair?: { crt: Buffer; key: Buffer } } | true;
  apiKey?: string;
} {
  const t = config.temporal.tls;
  const apiKey = config.temporal.apiKey;
  rememberSecret(apiKey);
  const any = t.enabled || t.caFile || t.certFile || t.keyFile || t.serverName || apiKey;
  if (!any) return {};
  const read = (file: string, env: string) => {
    if (!path.isAbsolute(file)) throw new ConfigError(`${env} must be an absolute path, got ${file}`);
    if (!fs.existsSync(file)) throw new ConfigError(`${env}: ${file} does not exist`);
    return fs.readFileSync(file);
  };
  if (Boolean(t.certFile) !== Boolean(t.keyFile)) {
    throw new ConfigError('GRIDFLOW_TEMPORAL_TLS_CERT and GRIDFLOW_TEMPORAL_TLS_KEY go together (the client certificate and its key, for mTLS)');
  }
  const tls = {
    ...(t.serverName ? { serverNameOverride: t.serverName } : {}),
    ...(t.caFile ? { serverRootCACertificate: read(t.caFile, 'GRIDFLOW_TEMPORAL_TLS_CA') } : {}),
    ...(t.certFile && t.keyFile ? { clientCertPair: { crt: read(t.certFile, 'GRIDFLOW_TEMPORAL_TLS_CERT'), key: read(t.keyFile, 'GRIDFLOW_TEMPORAL_TLS_KEY') } } : {}),
  };
  return { tls: Object.keys(tls).length ? tls : true, ...(apiKey ? { apiKey } : {}) };
}
