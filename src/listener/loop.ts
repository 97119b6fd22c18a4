import { describeError } from '../errors';
import { backoff } from './backoff';
import { isJournalFailure, type JournalHealth } from './journal-health';
import type { Clock, Logger } from './ports';

export interface LoopOptions {
  /** The longest wait between passes when nothing is due. */
  idleMs: number;
  /** Reports journal failures (logged once per state change there, not once per pass here). */
  health?: JournalHealth;
  /** The longest wait after failing passes (default 30 s). */
  maxBackoffMs?: number;
}

/**
 * After a pass that found nothing although something was said to be due (held by another daemon's
 * lease, waiting behind an earlier effect in backoff, a rule at its in-flight limit), the loop
 * waits at least this long: it never spins. A due time still ahead (a rate's next tokens) is kept
 * to the millisecond once, after a pass that worked: else a rate of 100 polls a second would shrink
 * to a burst every 200 ms. A wake() still cuts the wait short.
 */
const IDLE_FLOOR_MS = 200;

/**
 * Runs one pass at a time (never two at once, so no item is handled twice by one process), again
 * at once while there is work, else at the next due time or after `idleMs`. wake() cuts the wait
 * short. A failing pass is retried with backoff, so a journal that cannot commit is not hammered.
 */
export class Loop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private failures = 0;
  /** Passes in a row that found nothing. */
  private emptyPasses = 0;
  private lastError = '';

  constructor(
    readonly name: string,
    private readonly pass: () => Promise<number>,
    private readonly nextDue: () => Promise<number | null>,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: LoopOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.wake();
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) { this.again = true; return; }
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    this.running = this.runPass();
  }

  private async runPass(): Promise<void> {
    let worked = 0;
    let failed = false;
    try {
      worked = await this.pass();
      this.failures = 0;
      this.lastError = '';
    } catch (err) {
      failed = true;
      this.failures += 1;
      if (isJournalFailure(err) && this.opts.health) this.opts.health.failed(err, this.clock.now());
      else {
        // The same failure pass after pass is logged once, then again only when it changes.
        const why = describeError(err);
        if (why !== this.lastError) this.log.error({ loop: this.name, err: why }, 'pass failed; will try again');
        this.lastError = why;
      }
    }
    this.emptyPasses = failed || worked > 0 ? 0 : this.emptyPasses + 1;
    let delay: number;
    if (failed) delay = backoff(this.failures, Math.random, 250, this.opts.maxBackoffMs ?? 30_000);
    else if (worked > 0 || this.again) delay = -1;
    else {
      let due: number | null = null;
      try {
        due = await this.nextDue();
      } catch {
        // Asking when work is due failed; look again after the idle wait.
      }
      const ahead = due === null ? null : due - this.clock.now();
      if (ahead === null) delay = this.opts.idleMs;
      else if (ahead > 0 && this.emptyPasses === 1) delay = Math.min(this.opts.idleMs, ahead);
      else delay = Math.max(Math.min(IDLE_FLOOR_MS, this.opts.idleMs), Math.min(this.opts.idleMs, ahead));
    }
    this.running = null;
    if (this.stopped) return;
    if (delay < 0 || (this.again && !failed)) {
      this.again = false;
      setImmediate(() => this.wake());
      return;
    }
    this.again = false;
    this.timer = setTimeout(() => { this.timer = null; this.wake(); }, delay);
    this.timer.unref?.();
  }

  /** Waits for the pass under way; no pass starts after this. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    await this.running;
  }

  /** One more pass now, even when stopped (the last outbox pass on shutdown). */
  async drain(): Promise<number> {
    await this.running;
    try {
      return await this.pass();
    } catch (err) {
      this.log.warn({ loop: this.name, err: describeError(err) }, 'last pass failed; the work stays in the journal for the next start');
      return 0;
    }
  }
}
