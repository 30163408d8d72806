/**
 * Retry discipline for activities: a failure that a retry cannot fix (bad input, a permanent API
 * error, a missing prerequisite) becomes a non-retryable ApplicationFailure with a clear message;
 * anything transient is rethrown for Temporal to retry with backoff.
 */
import { redact } from '../core/redact';
import { knownSecrets } from '../secrets';
import { ApplicationFailure } from '@temporalio/common';
import { ConfigError } from '../config';
import { FlinkApiError } from '../flink/errors';
import { SpecError } from '../core/spec';
import { TemplateError } from '../warehouse/sql';
import { PostgresError } from '../postgres/errors';

export function nonRetryable(type: string, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? undefined : [details] });
}

/** Run `fn`; translate permanent failures into non-retryable ones, keep transient ones retryable. */
export async function classified<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classify(what, err);
  }
}

function classify(what: string, err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  // Every sentence an activity hands back (to history, status, events, logs) goes through the redactor.
  const message = redact(`${what}: ${err instanceof Error ? err.message : String(err)}`, knownSecrets());
  if (err instanceof FlinkApiError) {
    return err.transient ? ApplicationFailure.retryable(message, 'FlinkUnavailable') : nonRetryable('FlinkApiError', message);
  }
  if (err instanceof PostgresError) {
    return err.transient ? ApplicationFailure.retryable(message, 'PostgresUnavailable') : nonRetryable('PostgresError', message);
  }
  if (err instanceof SpecError || err instanceof TemplateError || err instanceof ConfigError) {
    return nonRetryable(err.name, message);
  }
  // Domain errors that say a retry cannot help (SourceStateError, DeployError...).
  if (err instanceof Error && (err as { transient?: unknown }).transient === false) return nonRetryable(err.name, message);
  return err;
}
