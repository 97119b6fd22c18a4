import { CvpError, describeError } from '../errors';
import type { Logger } from './ports';

/**
 * Whether the journal can commit, as the last commit or probe found it. Readiness reads it; a
 * failure is logged once when the journal starts failing and once when it recovers, not once per
 * attempt (a full disk would otherwise fill the log it cannot write).
 */
export class JournalHealth {
  private failure: string | null = null;
  private since = 0;
  private readonly recovered: Array<() => void> = [];

  constructor(private readonly log: Logger) {}

  get ok(): boolean {
    return this.failure === null;
  }

  /** Why the journal cannot commit, or null. */
  get problem(): string | null {
    return this.failure;
  }

  failed(err: unknown, now: number): void {
    const why = describeError(err);
    if (this.failure === null) {
      this.since = now;
      this.log.error({ err: why }, 'the journal cannot commit: nothing new is acked until it can; retrying');
    }
    this.failure = why;
  }

  succeeded(now: number): void {
    if (this.failure === null) return;
    this.log.info({ downForMs: now - this.since }, 'the journal commits again; resuming');
    this.failure = null;
    for (const f of this.recovered) f();
  }

  /** Called when the journal commits again (the loops that backed off can go on at once). */
  onRecovered(f: () => void): void {
    this.recovered.push(f);
  }
}

/** The journal cannot commit at all (as opposed to a peer's failure or a bug): handled by JournalHealth, not logged per pass. */
export function isJournalFailure(err: unknown): boolean {
  return err instanceof CvpError && err.code === 'JOURNAL_UNAVAILABLE';
}
