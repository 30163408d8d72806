/**
 * The gridflow worker: runs the workflows and activities on the `gridflow` task queue. Credentials are
 * resolved here (connection names → GRIDFLOW_PG_* or the local stack's connections.env); nothing secret
 * travels through Temporal.
 */
import { Context } from '@temporalio/activity';
import { NativeConnection, Runtime, DefaultLogger, Worker, LogEntry, LogLevel } from '@temporalio/worker';
import { inspect } from 'node:util';
import { redact } from './core/redact';
import { knownSecrets } from './secrets';
import { createActivities, defaultDeps, Provisioner } from './activities';
import { defaultAlertDeps } from './activities/alerts';
import { connectClient } from './client';
import type { Client } from '@temporalio/client';
import { GridflowConfig, loadConfig, temporalConnectionOptions } from './config';
import { TASK_QUEUE } from './constants';
import { addTaskManager, createContext } from './stack/manager';

/**
 * TaskManagers from the local stack, for specs that say provisioner: 'local'. Progress lines heartbeat
 * the calling activity (waiting for a TaskManager to register can take longer than a heartbeat).
 */
function localProvisioner(config: GridflowConfig): Provisioner {
  const progress = (message: string) => {
    try {
      Context.current().heartbeat(message);
    } catch {
      /* not inside an activity */
    }
  };
  return {
    slotsPerTaskManager: config.stack.slotsPerTaskManager,
    addTaskManager: () => addTaskManager(createContext(config, progress)),
  };
}

interface WorkerOptions {
  config?: GridflowConfig;
  /** A prebuilt workflow bundle (tests bundle once per run); default: bundle src/workflows. */
  workflowBundle?: { codePath: string };
  logLevel?: LogLevel;
  taskQueue?: string;
}

let runtimeInstalled = false;

/** A Temporal client for the alerts activities' status query, connected on first use and kept. */
function statusClient(config: GridflowConfig): () => Promise<Client> {
  let client: Promise<Client> | null = null;
  return () => {
    if (!client) {
      client = connectClient(config).then((c) => c.client);
      // A failed connection is not kept: the next evaluation tries again.
      void client.catch(() => {
        client = null;
      });
    }
    return client;
  };
}

export async function createWorker(options: WorkerOptions = {}): Promise<{ worker: Worker; connection: NativeConnection }> {
  const config = options.config ?? loadConfig();
  if (!runtimeInstalled) {
    try {
      // Every log line of the worker (its own, the SDK's, activities') passes the redactor.
      const print = (entry: LogEntry) => {
        const meta = entry.meta ? ` ${redact(inspect(entry.meta, { depth: 5, breakLength: Infinity }), knownSecrets())}` : '';
        process.stderr.write(`${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} [${entry.level}] ${redact(entry.message, knownSecrets())}${meta}\n`);
      };
      Runtime.install({ logger: new DefaultLogger(options.logLevel ?? 'INFO', print) });
    } catch {
      /* already installed in this process */
    }
    runtimeInstalled = true;
  }
  const connection = await NativeConnection.connect({ address: config.temporal.address, ...temporalConnectionOptions(config) });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('./workflows') }),
    activities: createActivities(defaultDeps(localProvisioner(config)), defaultAlertDeps(statusClient(config))),
    // Long activities heartbeat; a few at a time is plenty for one pipeline per worker.
    maxConcurrentActivityTaskExecutions: 20,
  });
  return { worker, connection };
}

/** Run until SIGINT/SIGTERM, then finish in-flight tasks and exit. */
export async function runWorker(options: WorkerOptions = {}): Promise<void> {
  const { worker, connection } = await createWorker(options);
  const stop = () => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  runWorker().catch((err) => {
    process.stderr.write(`gridflow worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
