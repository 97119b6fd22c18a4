import { describeError, isPermanent } from './errors';
import type { Run } from './journal';
import { outcomeOf } from './outcome';
import type { RunDeps } from './run-deps';

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
    const due = this.deps.journal.runsDueForPoll(now, 500);
    const picked: Run[] = [];
    for (const run of due) if (this.takeToken(run.executor, now)) picked.push(run);
    await Promise.all(picked.map((run) => this.poll(run)));
    return picked.length;
  }

  private interval(executor: string): number {
    return this.deps.pollIntervalMs.get(executor) ?? 10_000;
  }

  nextDue(): number | null {
    return this.deps.journal.nextPollAt();
  }

  /** A token bucket per executor: a pass never polls one Jenkins faster than its configured rate. */
  private takeToken(executor: string, now: number): boolean {
    const rate = this.deps.maxPollsPerSecond.get(executor) ?? 10;
    const interval = 1000 / rate;
    const at = Math.max(this.budgetAt.get(executor) ?? now - 1000, now - 1000);
    if (at > now) return false;
    this.budgetAt.set(executor, at + interval);
    return true;
  }

  private async poll(run: Run): Promise<void> {
    const { journal, clock, log } = this.deps;
    const executor = this.deps.executors.get(run.executor);
    const ref = run.buildRef ?? {};
    const now = clock.now();
    if (!executor) return this.finish(run, 'NOT_BUILT', ref.url, `no executor named ${run.executor}`);
    if (run.deadlineAt !== null && now >= run.deadlineAt) {
      const reason = `build did not finish within ${Math.round(run.timeoutMs / 1000)} s`;
      log.warn({ runId: run.id, job: run.job, ref }, reason);
      await executor.cancel(run.job, ref).catch((err) => log.warn({ runId: run.id, err: describeError(err) }, 'cannot cancel the timed-out build'));
      return this.finish(run, 'TIMEOUT', ref.url, reason);
    }
    try {
      const status = await executor.status(run.job, ref, run.id);
      if (status.state === 'finished') return this.finish(run, status.result ?? 'FAILURE', status.ref.url, null, status.ref);
      if (status.state === 'cancelled') return this.finish(run, 'NOT_BUILT', status.ref.url, 'the build was cancelled before it started', status.ref);
      if (status.state !== run.state || status.ref.number !== ref.number) {
        log.info({ runId: run.id, job: run.job, state: status.state, ref: status.ref }, 'build state changed');
      }
      const effects = status.state === 'running' && run.state !== 'running' ? this.deps.reporter.running(run, status.ref.url) : [];
      journal.transitionRun(run.id, { state: status.state, buildRef: status.ref, nextPollAt: now + this.interval(run.executor) }, effects, now);
    } catch (err) {
      if (isPermanent(err)) return this.finish(run, 'NOT_BUILT', ref.url, describeError(err));
      log.warn({ runId: run.id, job: run.job, err: describeError(err) }, 'cannot poll the build; will retry');
      journal.transitionRun(run.id, { nextPollAt: now + Math.max(this.interval(run.executor), 5_000) }, [], now);
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
    if (run.product) this.deps.gate?.afterResults([...run.items, ...(run.notRebuilt ?? []), ...(run.groupItem ? [run.groupItem] : [])]);
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
