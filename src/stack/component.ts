/** What `stack up/down/status` needs to know about one process of the local stack. */
import { GridflowConfig } from '../config';
import type { Progress } from '../core/types';
import { Artifacts } from './fetch';
import { Health } from './health';
import { Layout } from './layout';
import { ServiceUser } from './privilege';

export interface StackContext {
  config: GridflowConfig;
  layout: Layout;
  /** Fetched on first use: `status` and `down` never download anything. */
  artifacts: () => Artifacts;
  /** The unprivileged user the components run as when gridflow runs as root (privilege.ts); else undefined. */
  user: () => ServiceUser | undefined;
  progress: Progress;
}

export interface Component {
  /** Unique name: postgres-source, taskmanager-2, ... (also the log and pid file name). */
  name: string;
  /** host:port or URL an operator would open. */
  address: string;
  /** Where its log is (some components write their own log beside the captured stdout). */
  logFile: string;
  pid(ctx: StackContext): number | undefined;
  /** Write config, initialise data dirs if new, and launch. Must not wait for health. */
  start(ctx: StackContext): Promise<void>;
  /** One real request. */
  health(ctx: StackContext): Promise<Health>;
  /** Run once after the first healthy check of each `up` (roles, databases). Idempotent. */
  afterHealthy?(ctx: StackContext): Promise<void>;
  /** Signal used to stop gracefully (Postgres wants SIGINT: SIGTERM waits for every client). */
  stopSignal?: NodeJS.Signals;
  /** Folders `down --purge` removes. */
  dataDirs: string[];
}
