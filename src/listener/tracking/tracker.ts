import { describeError, isPermanent } from '../../errors';
import { allItems, type Run } from '../domain';
import { outcomeOf } from '../domain/outcome';
import type { RunDeps } from '../dispatch/run-deps';

export interface TrackerDeps extends RunDeps {
  /** How often one build is polled, per executor. */
  pollIntervalMs: Map<string, number>;
  /** Polls per second allowed against each executor (each Jenkins). */
  maxPollsPerSecond: Map<string, number>;
}

/**
 * One scheduler for every build in flight (not a timer per build): each pass polls the builds whose
 * turn has come, within each executor's rate budget, and ends runs that finished or timed out.
 */
export class Tracker {
  private readonly budgetAt = new Map<string, number>();

  constructor(private readonly deps: TrackerDeps) {}

  /** Returns the number of builds polled; the caller schedules the next pass with nextDue(). */
  async runOnce(): Promise<number> {
    const now = this.deps.clock.now();
    // Read no more due runs than the buckets let us poll now: reading and parsing runs that must
    // wait anyway is what would keep the loop busy with thousands of builds in flight.
    let budget = 0;
    for (const executor of this.deps.executors.keys()) budget += this.available(executor, now);
    if (budget === 0) return 0;
    const due = this.deps.journal.runsDueForPoll(now, Math.min(budget, 500));
    const picked: Run[] = [];
    for (const run of due) if (this.takeToken(run.executor, now)) picked.push(run);
    const outcomes = await Promise.all(picked.map((run) => this.poll(run)));
    this.deps.journal.atomically(() => { for (const apply of outcomes) apply(); });
    return picked.length;
  }

  private interval(executor: string): number {
    return this.deps.pollIntervalMs.get(executor) ?? 10_000;
  }

  /** The next poll that is due, but not before a bucket has a token again. */
  nextDue(): number | null {
    const due = this.deps.journal.nextPollAt();
    if (due === null) return null;
    let token = Infinity;
    for (const executor of this.deps.executors.keys()) token = Math.min(token, this.nextTokenAt(executor));
    return Math.max(due, token === Infinity ? due : token);
  }

  private spacing(executor: string): number {
    return 1000 / (this.deps.maxPollsPerSecond.get(executor) ?? 10);
  }

  /** Tokens gather at the configured rate, up to a tenth of a second's worth (at least one). */
  private bucketStart(executor: string, now: number): number {
    const spacing = this.spacing(executor);
    const burst = Math.max(1, Math.floor(100 / spacing));
    return Math.max(this.budgetAt.get(executor) ?? now - spacing, now - burst * spacing);
  }

  private available(executor: string, now: number): number {
    return Math.max(0, Math.floor((now - this.bucketStart(executor, now)) / this.spacing(executor)));
  }

  private nextTokenAt(executor: string): number {
    const at = this.budgetAt.get(executor);
    return at === undefined ? 0 : at + this.spacing(executor);
  }

  /** A token bucket per executor: no pass polls one Jenkins faster than its configured rate. */
  private takeToken(executor: string, now: number): boolean {
    if (this.available(executor, now) < 1) return false;
    this.budgetAt.set(executor, this.bucketStart(executor, now) + this.spacing(executor));
    return true;
  }

  /** Asks the executor; returns what to record, so that a pass records all its polls in one commit. */
  private async poll(run: Run): Promise<() => void> {
    const { journal, clock, log } = this.deps;
    const executor = this.deps.executors.get(run.executor);
    const ref = run.buildRef ?? {};
    const now = clock.now();
    if (!executor) return () => this.finish(run, 'NOT_BUILT', ref.url, `no executor named ${run.executor}`);
    if (run.deadlineAt !== null && now >= run.deadlineAt) {
      const reason = `build did not finish within ${Math.round(run.timeoutMs / 1000)} s`;
      log.warn({ runId: run.id, job: run.job, ref }, reason);
      await executor.cancel(run.job, ref).catch((err) => log.warn({ runId: run.id, err: describeError(err) }, 'cannot cancel the timed-out build'));
      return () => this.finish(run, 'TIMEOUT', ref.url, reason);
    }
    try {
      const status = await executor.status(run.job, ref, run.id);
      if (status.state === 'finished') return () => this.finish(run, status.result ?? 'FAILURE', status.ref.url, null, status.ref);
      if (status.state === 'cancelled') return () => this.finish(run, 'NOT_BUILT', status.ref.url, 'the build was cancelled before it started', status.ref);
      if (status.state !== run.state || status.ref.number !== ref.number) {
        log.info({ runId: run.id, job: run.job, state: status.state, ref: status.ref }, 'build state changed');
      }
      const effects = status.state === 'running' && run.state !== 'running' ? this.deps.reporter.running(run, status.ref.url) : [];
      const state = status.state;
      return () => journal.transitionRun(run.id, { state, buildRef: status.ref, nextPollAt: now + this.interval(run.executor) }, effects, clock.now());
    } catch (err) {
      if (isPermanent(err)) return () => this.finish(run, 'NOT_BUILT', ref.url, describeError(err));
      log.warn({ runId: run.id, job: run.job, err: describeError(err) }, 'cannot poll the build; will retry');
      return () => journal.transitionRun(run.id, { nextPollAt: now + Math.max(this.interval(run.executor), 5_000) }, [], clock.now());
    }
  }


  /** Ends a run: one final result per item and one notice, committed with the state change. */
  finish(run: Run, buildResult: string, url: string | undefined, reason: string | null, ref = run.buildRef ?? {}, outcomeOverride?: string): void {
    const outcome = outcomeOverride ?? outcomeOf(buildResult, this.deps.outcomes);
    const now = this.deps.clock.now();
    this.deps.log.info({ runId: run.id, messageId: run.messageId, job: run.job, buildResult, outcome, reason }, 'run finished');
    this.deps.metrics?.runFinished(outcome);
    this.deps.journal.transitionRun(run.id, { state: 'finished', buildRef: ref, buildResult, outcome, errorReason: reason, nextPollAt: null },
      this.deps.reporter.finished(run, outcome, url, reason), now);
    if (run.product) this.deps.gate?.afterResults(allItems(run));
  }

  /**
   * The pipeline itself said how the run ended (its test.complete or test.error names the run):
   * end it now rather than at the next poll. A run already ended is left as it is.
   */
  finishFromPipeline(runId: string, outcome: string, url: string | undefined, reason: string | null): boolean {
    const run = this.deps.journal.getRun(runId);
    if (!run || run.state === 'finished' || run.state === 'pending') return false;
    this.finish(run, 'REPORTED', url ?? run.buildRef?.url, reason, run.buildRef ?? {}, outcome);
    return true;
  }
}
