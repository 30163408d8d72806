/**
 * A FIFO lock for workflow code. Updates that move jobs (redeploy, pause, resume, savepoint) and the
 * watch step never interleave: each waits its turn, in arrival order. Deterministic: built on
 * `condition`, no timers, no randomness.
 */
import { condition } from '@temporalio/workflow';

export class WorkflowLock {
  private queue: number[] = [];
  private nextTicket = 0;
  private holder: string | null = null;

  /** What currently holds the lock (for status output and update validators). */
  get heldBy(): string | null {
    return this.holder;
  }

  get waiting(): number {
    return Math.max(0, this.queue.length - (this.holder ? 1 : 0));
  }

  async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const ticket = this.nextTicket++;
    this.queue.push(ticket);
    // Only the head of the queue may proceed; it leaves the queue when done, waking the next.
    await condition(() => this.queue[0] === ticket && this.holder === null);
    this.holder = what;
    try {
      return await fn();
    } finally {
      this.holder = null;
      this.queue.shift();
    }
  }
}
