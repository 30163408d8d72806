/** Launching the JVM components: one log4j configuration, the Java 17 module flags, and a classpath. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Layout } from '../layout';
import { startDetached } from '../process';
import { StackContext } from '../component';
import { ensureReachable, handOver, userEnv } from '../privilege';

/**
 * The --add-exports/--add-opens list Flink's scripts take from `env.java.opts.all` on Java 17
 * (Kryo, the planner's Janino code generation and Arrow reach into these packages).
 */
const JAVA17_OPTS = [
  '--add-exports=java.base/sun.net.util=ALL-UNNAMED',
  '--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED',
  '--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED',
  '--add-opens=java.base/java.lang=ALL-UNNAMED',
  '--add-opens=java.base/java.net=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens=java.base/java.lang.reflect=ALL-UNNAMED',
  '--add-opens=java.base/java.text=ALL-UNNAMED',
  '--add-opens=java.base/java.time=ALL-UNNAMED',
  '--add-opens=java.base/java.util=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED',
];

/** Rolling file per component (also what Flink's web UI shows as the JobManager/TaskManager log). */
const LOG4J = `# Written by gridflow stack up. Each JVM passes -Dlog.file=<stack>/logs/<component>.log
monitorInterval = 30
rootLogger.level = INFO
rootLogger.appenderRef.main.ref = MainAppender
appender.main.name = MainAppender
appender.main.type = RollingFile
appender.main.append = true
appender.main.fileName = \${sys:log.file}
appender.main.filePattern = \${sys:log.file}.%i
appender.main.layout.type = PatternLayout
# Connectors log their whole configuration (the CDC source prints database.password): mask any
# <...password|secret|token|api-key...>=..., : ... or "...":"..." and the secret of any user:secret@ URL, in
# the message and in exception text alike (so the exception is written inside the replacement).
appender.main.layout.alwaysWriteExceptions = false
appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %replace{%replace{%m%n%throwable}{(?i)((?:password|passwd|secret|token|api[-_]?key)[\\\\w.-]*[\"']?\\\\s*[=:]\\\\s*[\"']?)[^,;\\\\s\"']+}{$1******}}{(://[^/\\\\s:@]+:)[^@\\\\s/]+@}{$1******@}
appender.main.policies.type = Policies
appender.main.policies.size.type = SizeBasedTriggeringPolicy
appender.main.policies.size.size = 50MB
appender.main.strategy.type = DefaultRolloverStrategy
appender.main.strategy.max = 5
# Noise that says nothing an operator can act on.
logger.pekko.name = org.apache.pekko
logger.pekko.level = WARN
logger.zookeeper.name = org.apache.zookeeper
logger.zookeeper.level = WARN
logger.shadedzk.name = org.apache.fluss.shaded.zookeeper3
logger.shadedzk.level = WARN
logger.kafka.name = org.apache.kafka
logger.kafka.level = WARN
logger.netty.name = org.apache.flink.shaded.netty4
logger.netty.level = WARN
`;

function log4jConfig(paths: Layout): string {
  const file = path.join(paths.home, 'conf', 'log4j2.properties');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, LOG4J);
  return file;
}

/** Where the captured stdout/stderr of a JVM goes (crash output, OOM killer notes). */
export function stdoutFile(paths: Layout, component: string): string {
  return path.join(paths.logs, `${component}.out`);
}

interface JavaLaunch {
  component: string;
  /** Folders the JVM writes (besides the logs and the temp folder): handed to the stack's user. */
  writes: string[];
  mainClass: string;
  classpath: string[];
  jvmArgs: string[];
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/** Start a JVM of the stack, as the stack's unprivileged user when gridflow runs as root (privilege.ts). */
export function startJava(ctx: Pick<StackContext, 'layout' | 'user' | 'config'>, launch: JavaLaunch): number {
  const paths = ctx.layout;
  const log4j = log4jConfig(paths);
  const tmp = path.join(paths.home, 'tmp');
  fs.mkdirSync(tmp, { recursive: true });
  const user = ctx.user();
  if (user) {
    ensureReachable(paths.home, user, ctx.config.home);
    handOver([...launch.writes, paths.logs, tmp], user);
  }
  return startDetached({
    command: 'java',
    args: [
      ...launch.jvmArgs,
      ...JAVA17_OPTS,
      `-Dlog.file=${paths.logFile(launch.component)}`,
      `-Dlog4j.configurationFile=${log4j}`,
      `-Dlog4j2.configurationFile=${log4j}`,
      // The planner and RPC loaders unpack jars here; keep it inside the stack folder.
      `-Djava.io.tmpdir=${tmp}`,
      // The JDBC sink writes timestamps through java.sql.Timestamp in the JVM's zone; jobs are
      // submitted with table.local-time-zone=UTC, so every JVM runs in UTC (sql/NOTES.md).
      '-Duser.timezone=UTC',
      '-cp',
      launch.classpath.join(':'),
      launch.mainClass,
      ...launch.args,
    ],
    logFile: stdoutFile(paths, launch.component),
    pidFile: paths.pidFile(launch.component),
    env: userEnv(launch.env ?? process.env, user, path.join(paths.run, 'home')),
    cwd: paths.home,
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
}
