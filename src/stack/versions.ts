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
  /** Temporal CLI, built with `go install` (newer tags carry replace directives that break it). */
  temporalCli: 'v1.5.1',
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

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
