/** Where everything of the local stack lives under GRIDFLOW_HOME. One place, so `down --purge` is exact. */
import * as path from 'node:path';
import { GridflowConfig } from '../config';

export interface Layout {
  home: string;
  logs: string;
  run: string;
  stateFile: string;
  connectionsFile: string;
  postgres: (instance: 'source' | 'sink') => string;
  zookeeper: string;
  fluss: string;
  flussRemote: string;
  flink: string;
  flinkConf: string;
  flinkTmp: string;
  checkpoints: string;
  savepoints: string;
  temporalDb: string;
  /** Hard links to the cached artifacts, readable by the stack's unprivileged user (privilege.ts). */
  runtime: string;
  logFile: (component: string) => string;
  pidFile: (component: string) => string;
}

export function layout(config: Pick<GridflowConfig, 'home'>): Layout {
  const home = config.home;
  const flink = path.join(home, 'flink');
  return {
    home,
    logs: path.join(home, 'logs'),
    run: path.join(home, 'run'),
    stateFile: path.join(home, 'stack.json'),
    connectionsFile: path.join(home, 'connections.env'),
    postgres: (instance) => path.join(home, 'postgres', instance),
    zookeeper: path.join(home, 'zookeeper'),
    fluss: path.join(home, 'fluss'),
    flussRemote: path.join(home, 'fluss', 'remote'),
    flink,
    flinkConf: path.join(flink, 'conf'),
    flinkTmp: path.join(flink, 'tmp'),
    checkpoints: path.join(flink, 'checkpoints'),
    savepoints: path.join(flink, 'savepoints'),
    temporalDb: path.join(home, 'temporal', 'temporal.db'),
    runtime: path.join(home, 'runtime'),
    logFile: (component) => path.join(home, 'logs', `${component}.log`),
    pidFile: (component) => path.join(home, 'run', `${component}.pid`),
  };
}
