/** Reading failures inside workflow code (no Node built-ins: workflow sandbox). */
import { ActivityFailure } from '@temporalio/workflow';

/** The message of an activity failure as the operator should read it: the activity's own sentence. */
export function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
