/**
 * Where a spec's cluster names point. The worker is configured with named Flink and Fluss clusters
 * (src/config.ts: `local` always, more from GRIDFLOW_CLUSTERS); a spec names one of each. The
 * addresses — and so where the job SQL with the pipeline's passwords goes — come only from here.
 * Pure: no I/O, no Temporal.
 */
import { PipelineSpec } from './spec';

interface FlinkCluster {
  restUrl: string;
  gatewayUrl: string;
}
interface FlussCluster {
  /** host:port[,host:port] of the coordinator(s), as Flink reaches them. */
  bootstrap: string;
}
export interface Clusters {
  flink: Record<string, FlinkCluster>;
  fluss: Record<string, FlussCluster>;
}
export interface Endpoints {
  flink: FlinkCluster & { name: string };
  fluss: FlussCluster & { name: string };
}

/** A spec names a cluster this worker does not know: a retry cannot help; the operator must configure it. */
export class ClusterError extends Error {
  override name = 'ClusterError';
  readonly transient = false;
}

const sameUrl = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

function known(kind: string, clusters: Record<string, unknown>): string {
  const names = Object.keys(clusters).sort();
  return names.length ? `configured ${kind} clusters: ${names.join(', ')}` : `no ${kind} cluster is configured`;
}

/**
 * The addresses of the spec's clusters. A spec parsed from an old workflow's input may still carry
 * addresses: they resolve only to the configured cluster with exactly those addresses, never to an
 * address the worker was not given.
 */
export function resolveEndpoints(spec: Pick<PipelineSpec, 'flink' | 'fluss'>, clusters: Clusters): Endpoints {
  return { flink: resolveFlink(spec.flink, clusters), fluss: resolveFluss(spec.fluss, clusters) };
}

function resolveFlink(flink: PipelineSpec['flink'], clusters: Clusters): Endpoints['flink'] {
  if (flink.cluster !== undefined) {
    const hit = Object.prototype.hasOwnProperty.call(clusters.flink, flink.cluster) ? clusters.flink[flink.cluster] : undefined;
    if (!hit) throw new ClusterError(`flink: cluster "${flink.cluster}" is not configured on this worker (${known('Flink', clusters.flink)}); add it to GRIDFLOW_CLUSTERS`);
    return { name: flink.cluster, ...hit };
  }
  const match = Object.entries(clusters.flink).find(([, c]) => sameUrl(c.restUrl, flink.restUrl ?? '') && sameUrl(c.gatewayUrl, flink.gatewayUrl ?? ''));
  if (!match) {
    throw new ClusterError(
      `flink: the spec names addresses (${flink.restUrl}, ${flink.gatewayUrl}) that are not a cluster configured on this worker ` +
        `(${known('Flink', clusters.flink)}); name a configured cluster (flink: local)`,
    );
  }
  return { name: match[0], ...match[1] };
}

function resolveFluss(fluss: PipelineSpec['fluss'], clusters: Clusters): Endpoints['fluss'] {
  if (fluss.cluster !== undefined) {
    const hit = Object.prototype.hasOwnProperty.call(clusters.fluss, fluss.cluster) ? clusters.fluss[fluss.cluster] : undefined;
    if (!hit) throw new ClusterError(`fluss: cluster "${fluss.cluster}" is not configured on this worker (${known('Fluss', clusters.fluss)}); add it to GRIDFLOW_CLUSTERS`);
    return { name: fluss.cluster, ...hit };
  }
  const match = Object.entries(clusters.fluss).find(([, c]) => c.bootstrap === fluss.bootstrap);
  if (!match) {
    throw new ClusterError(
      `fluss: the spec names the address ${fluss.bootstrap}, which is not a cluster configured on this worker ` +
        `(${known('Fluss', clusters.fluss)}); name a configured cluster (fluss: local)`,
    );
  }
  return { name: match[0], ...match[1] };
}

/** The cluster a spec names, for messages and comparisons ("local", or the legacy addresses). */
export function flinkClusterOf(spec: Pick<PipelineSpec, 'flink'>): string {
  return spec.flink.cluster ?? `${spec.flink.restUrl} ${spec.flink.gatewayUrl}`;
}
export function flussClusterOf(spec: Pick<PipelineSpec, 'fluss'>): string {
  return spec.fluss.cluster ?? String(spec.fluss.bootstrap);
}
