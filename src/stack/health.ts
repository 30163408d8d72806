/**
 * Health logic shared by every component: a component is healthy when a real request to it succeeds
 * (a SQL query, a REST call, a ZooKeeper four-letter word, a Fluss RPC, a Temporal gRPC call), never
 * merely because a port is open.
 */
export interface Health {
  ok: boolean;
  /** One line an operator can act on: what answered, or what failed. */
  detail: string;
}

export const healthy = (detail: string): Health => ({ ok: true, detail });
export const unhealthy = (detail: string): Health => ({ ok: false, detail });

type WaitOutcome =
  | { kind: 'healthy'; health: Health; elapsedMs: number }
  | { kind: 'exited'; health: Health; elapsedMs: number }
  | { kind: 'timeout'; health: Health; elapsedMs: number };

interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Checked between attempts: a process that died will never become healthy, so stop waiting. */
  processAlive?: () => boolean;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Called with each failed attempt's health (progress output for long starts). */
  onAttempt?: (health: Health, elapsedMs: number) => void;
}

/** Poll `check` until it reports healthy, the process exits, or the timeout passes. */
export async function waitHealthy(check: () => Promise<Health>, opts: WaitOptions): Promise<WaitOutcome> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const interval = opts.intervalMs ?? 500;
  const started = now();
  let last: Health = unhealthy('not checked yet');
  for (;;) {
    last = await safeCheck(check);
    const elapsedMs = now() - started;
    if (last.ok) return { kind: 'healthy', health: last, elapsedMs };
    if (opts.processAlive && !opts.processAlive()) return { kind: 'exited', health: last, elapsedMs };
    if (elapsedMs >= opts.timeoutMs) return { kind: 'timeout', health: last, elapsedMs };
    opts.onAttempt?.(last, elapsedMs);
    await sleep(Math.min(interval, Math.max(0, opts.timeoutMs - elapsedMs)));
  }
}

/** A health check that throws is unhealthy with the error's message, never a crash of `stack up`. */
export async function safeCheck(check: () => Promise<Health>): Promise<Health> {
  try {
    return await check();
  } catch (err) {
    return unhealthy(describeError(err));
  }
}

export function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) return describeError(err.errors[0]);
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = err.message || code || err.name;
    return code && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return String(err);
}

/** The status word `stack status` prints for a component. */
export function statusWord(running: boolean, health: Health | undefined): 'healthy' | 'unhealthy' | 'stopped' | 'external' {
  if (!running) return health?.ok ? 'external' : 'stopped';
  return health?.ok ? 'healthy' : 'unhealthy';
}
