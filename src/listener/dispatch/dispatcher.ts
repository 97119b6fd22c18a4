import { describeError, isPermanent } from '../../errors';
import { allItems, type Run } from '../domain';
import { outcomeOf } from '../domain/outcome';
import type { Executor } from '../ports';
import { backoff } from '../backoff';
import type { RunDeps } from './run-deps';

export interface DispatcherDeps extends RunDeps {
  random?: () => number;
  /** Runs triggered at once; more wait for the next pass. */
  concurrency?: number;
  onTracked?: () => void;
  retry?: { baseMs: number; maxMs: number };
}

/**
 * Starts the builds of pending runs. A run is marked `triggering` (committed) before the executor
 * is called, so after a crash it is looked up by its CVP_RUN_ID instead of being triggered again.
 */
export class Dispatcher {
  private readonly concurrency: number;
  private readonly random: () => number;

  constructor(private readonly deps: DispatcherDeps) {
    this.concurrency = deps.concurrency ?? 16;
    this.random = deps.random ?? Math.random;
  }

  /** Runs left in `triggering` by a previous process: find their builds before anything else. */
  async recover(): Promise<number> {
    const runs = this.deps.journal.runsInState(['triggering'], 10_000);
    for (const run of runs) await this.resume(run);
    return runs.length;
  }

  /** One pass over due pending runs. Returns how many were handled. */
  async runOnce(): Promise<number> {
    // Pending runs are always due: a run whose trigger failed waits in `triggering` (retryOnce).
    const due = this.deps.journal.runsInState(['pending'], this.concurrency);
    await this.dispatchAll(due);
    return due.length;
  }

  /**
   * A pass's runs are marked `triggering` in one commit, triggered together, and what became of
   * them is recorded in one commit more: two fsyncs a pass, not two a run.
   */
  private async dispatchAll(runs: Run[]): Promise<void> {
    if (!runs.length) return;
    const { journal, clock } = this.deps;
    journal.atomically(() => { for (const run of runs) journal.transitionRun(run.id, { state: 'triggering' }, [], clock.now()); });
    const outcomes = await Promise.all(runs.map((run) => this.trigger(run)));
    journal.atomically(() => { for (const apply of outcomes) apply(); });
  }

  private executorOf(run: Run): Executor | undefined {
    return this.deps.executors.get(run.executor);
  }

  private async resume(run: Run): Promise<void> {
    const executor = this.executorOf(run);
    if (!executor) return this.failRun(run, `no executor named ${run.executor}`);
    try {
      const ref = await executor.locate(run.job, run.id, run.createdAt);
      if (ref) {
        this.deps.log.info({ runId: run.id, job: run.job, ref }, 'run found after restart; tracking it');
        this.markQueued(run, ref);
        return;
      }
    } catch (err) {
      this.deps.log.warn({ runId: run.id, err: describeError(err) }, 'cannot look the run up yet; will retry');
      this.deps.journal.transitionRun(run.id, { nextPollAt: this.deps.clock.now() + 5_000 }, [], this.deps.clock.now());
      return;
    }
    await this.dispatch(run);
  }

  private async dispatch(run: Run): Promise<void> {
    await this.dispatchAll([run]);
  }

  /** Calls the executor; returns what to record, so that a pass records all its runs at once. */
  private async trigger(run: Run): Promise<() => void> {
    const { journal, clock, log } = this.deps;
    const executor = this.executorOf(run);
    if (!executor) return () => this.failRun(run, `no executor named ${run.executor}`);
    try {
      const ref = await executor.trigger(run.job, { ...run.parameters, CVP_RUN_ID: run.id }, run.id);
      log.info({ runId: run.id, messageId: run.messageId, job: run.job, ref }, 'build triggered');
      return () => this.markQueued(run, ref);
    } catch (err) {
      if (isPermanent(err)) return () => this.failRun(run, describeError(err));
      const n = run.attempts + 1;
      const delay = backoff(n, this.random, this.deps.retry?.baseMs ?? 1_000, this.deps.retry?.maxMs ?? 300_000);
      log.warn({ runId: run.id, job: run.job, err: describeError(err), retryInMs: delay }, 'trigger failed; will retry');
      // Left in `triggering`: the request may have reached Jenkins, so the retry looks the run up first.
      return () => journal.transitionRun(run.id, { state: 'triggering', attempts: n, nextPollAt: clock.now() + delay, errorReason: describeError(err) }, [], clock.now());
    }
  }

  /** Runs whose trigger failed, once their backoff is over: looked up first, triggered if not found. */
  async retryOnce(): Promise<number> {
    const now = this.deps.clock.now();
    const due = this.deps.journal.runsInState(['triggering'], this.concurrency, now);
    await Promise.all(due.map((run) => this.resume(run)));
    return due.length;
  }

  private markQueued(run: Run, ref: { queueId?: string; number?: number; url?: string }): void {
    const now = this.deps.clock.now();
    // The event's first run to start opens its Slack thread; the others reply in it.
    this.deps.journal.startRun(run.id, {
      state: ref.number !== undefined ? 'running' : 'queued',
      buildRef: ref,
      errorReason: null,
      deadlineAt: now + run.timeoutMs,
      nextPollAt: now,
    }, { thread: run.messageId, channel: run.channel ?? '' }, (first) => this.deps.reporter.started(run, ref.url, first), now);
    this.deps.metrics?.runTriggered();
    this.deps.onTracked?.();
  }

  private failRun(run: Run, reason: string): void {
    const outcome = outcomeOf('NOT_BUILT', this.deps.outcomes);
    this.deps.log.error({ runId: run.id, messageId: run.messageId, job: run.job, reason }, 'run cannot start');
    this.deps.metrics?.runFinished(outcome);
    this.deps.journal.transitionRun(run.id, { state: 'finished', outcome, buildResult: 'NOT_BUILT', errorReason: reason, nextPollAt: null },
      this.deps.reporter.finished(run, outcome, undefined, reason), this.deps.clock.now());
    if (run.product) this.deps.gate?.afterResults(allItems(run));
  }
}
