/**
 * The SGCC pipeline spec for the local stack (`gridflow deploy` without --spec, the demo, the tests):
 * the worker's `local` clusters and the stack's connection names. Any other deployment writes its own spec file.
 */
import { GridflowConfig } from '../config';
import { LOCAL_CONNECTIONS } from './credentials';
import { layout } from './layout';
import { PipelineSpec, PipelineSpecInput, parseSpec } from '../core/spec';

export function localSpecInput(config: GridflowConfig, overrides: Partial<PipelineSpecInput> = {}): PipelineSpecInput {
  return {
    name: 'sgcc',
    version: 1,
    source: { connection: LOCAL_CONNECTIONS.sourceAdmin, cdcConnection: LOCAL_CONNECTIONS.sourceCdc },
    sink: { connection: LOCAL_CONNECTIONS.sink },
    // fluss.database and sink.schema follow the name: Fluss `sgcc` and `dw` for sgcc (the contract's),
    // `<name>` and `dw_<name>` for any other pipeline (src/core/spec.ts).
    // The worker's `local` clusters: the stack's (or GRIDFLOW_FLINK_REST / _SQL_GATEWAY / _FLUSS_BOOTSTRAP).
    fluss: 'local',
    flink: 'local',
    checkpointInterval: '5s',
    savepointDir: `file://${layout(config).savepoints}`,
    provisioner: 'local',
    ...overrides,
  };
}

export function localSpec(config: GridflowConfig, overrides: Partial<PipelineSpecInput> = {}): PipelineSpec {
  return parseSpec(localSpecInput(config, overrides));
}
