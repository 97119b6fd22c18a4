import { describeError, isPermanent } from '../../errors';
import { type BucketPolicy, defaultBurst, type Run } from '../domain';
import { finishRun, nextDueOverExecutors, passOverExecutors, supersedeRun, transition, type PhaseClaim, type RunDeps } from '../dispatch/run-deps';
import type { RunTransition } from '../ports/journal';

export interface TrackerDeps extends RunDeps {
  /** How often one build is polled, per executor. */
  pollIntervalMs: Map<string, number>;
  /** Polls per second allowed against each executor (each Jenkins), across every daemon sharing the journal. */
  maxPollsPerSecond: Map<string, number>;
  /** Builds claimed per executor and pass, at the most. */
  batch?: number;
}

/**
 * One scheduler for every build in flight (not a timer per build): each pass claims the builds
 * whose turn has come, as many as the executor's shared poll budget allows, and ends runs that
 * finished, timed out, were superseded, or whose pipeline reported.
 */
export class Tracker {
  constructor(private readonly deps: TrackerDeps) {}

  private budget(executor: string): { key: string; policy: BucketPolicy } {
    const rate = this.deps.maxPollsPerSecond.get(executor) ?? 10;
    return { key: `poll:${executor}`, policy: { ratePerSecond: rate, burst: defaultBurst(rate) } };
  }

  private interval(executor: string): number {
    return this.deps.pollIntervalMs.get(executor) ?? 10_000;
  }

  private claimOf(executor: string): PhaseClaim {
    return { limit: this.deps.batch ?? 500, budget: this.budget(executor) };
  }

  /** Returns the number of builds handled; the caller schedules the next pass with nextDue(). */
  runOnce(): Promise<number> {
    return passOverExecutors(this.deps, 'track', (executor) => this.claimOf(executor), (run) => this.poll(run));
  }

  /** The next poll that is due, but not before the budget has a token again. */
  nextDue(): Promise<number | null> {
    return nextDueOverExecutors(this.deps, 'track', (executor) => this.claimOf(executor));
  }

  /** Asks the executor; returns what to record, so that a pass records all its polls in one commit. */
  private async poll(run: Run): Promise<RunTransition> {
    const { clock, log } = this.deps;
    const state = run.state;
    const executor = this.deps.executors.get(run.executor);
    const ref = run.buildRef ?? {};
    const now = clock.now();
    if (run.reported) {
      // The pipeline said how it ended (its test.complete or test.error named the run).
      return finishRun(this.deps, run, state, 'REPORTED', run.reported.url ?? ref.url, run.reported.reason, run.buildRef, run.reported.outcome);
    }
    if (!executor) return finishRun(this.deps, run, state, 'NOT_BUILT', ref.url, `no executor named ${run.executor}`);
    if (run.supersededBy) {
      await executor.cancel(run.job, ref).catch((err) => log.warn({ runId: run.id, err: describeError(err) }, 'cannot cancel the superseded build'));
      return supersedeRun(this.deps, run, state);
    }
    if (run.deadlineAt !== null && now >= run.deadlineAt) {
      const reason = `build did not finish within ${Math.round(run.timeoutMs / 1000)} s`;
      log.warn({ runId: run.id, job: run.job, ref }, reason);
      await executor.cancel(run.job, ref).catch((err) => log.warn({ runId: run.id, err: describeError(err) }, 'cannot cancel the timed-out build'));
      return finishRun(this.deps, run, state, 'TIMEOUT', ref.url, reason);
    }
    try {
      const status = await executor.status(run.job, ref, run.id);
      if (status.state === 'finished') {
        const end = finishRun(this.deps, run, state, status.result ?? 'FAILURE', status.ref.url, null, status.ref);
        // A build that ran and ended between two polls still says it ran, in order: running, then complete.
        if (run.startedAt === null) end.effects.unshift(...this.deps.reporter.running(run, status.ref.url).effects);
        return end;
      }
      if (status.state === 'cancelled') return finishRun(this.deps, run, state, 'NOT_BUILT', status.ref.url, 'the build was cancelled before it started', status.ref);
      if (status.state !== run.state || status.ref.number !== ref.number) {
        log.info({ runId: run.id, job: run.job, state: status.state, ref: status.ref }, 'build state changed');
      }
      const starts = status.state === 'running' && run.state !== 'running';
      return transition(run, state, {
        state: status.state, buildRef: status.ref, nextPollAt: now + this.interval(run.executor), ...(starts ? { startedAt: now } : {}),
      }, starts ? this.deps.reporter.running(run, status.ref.url) : undefined);
    } catch (err) {
      if (isPermanent(err)) return finishRun(this.deps, run, state, 'NOT_BUILT', ref.url, describeError(err));
      log.warn({ runId: run.id, job: run.job, err: describeError(err) }, 'cannot poll the build; will retry');
      return transition(run, state, { nextPollAt: now + Math.max(this.interval(run.executor), 5_000) });
    }
  }
}
