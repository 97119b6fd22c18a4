import { describeError } from '../errors';
import type { Clock, Logger } from './ports';

/**
 * Runs one pass at a time (never two at once, so no run is handled twice), again at once while
 * there is work, else at the next due time or after `idleMs`. wake() cuts the wait short.
 */
export class Loop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;

  constructor(
    private readonly name: string,
    private readonly pass: () => Promise<number>,
    private readonly nextDue: () => number | null,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly idleMs = 1_000,
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
    try {
      worked = await this.pass();
    } catch (err) {
      this.log.error({ loop: this.name, err: describeError(err) }, 'pass failed; will try again');
    }
    this.running = null;
    if (this.stopped) return;
    if (worked > 0 || this.again) {
      this.again = false;
      setImmediate(() => this.wake());
      return;
    }
    const due = this.nextDue();
    const delay = due === null ? this.idleMs : Math.max(0, Math.min(this.idleMs, due - this.clock.now()));
    this.timer = setTimeout(() => { this.timer = null; this.wake(); }, delay);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    await this.running;
  }
}
