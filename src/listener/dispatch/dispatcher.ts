import { describeError, isPermanent } from '../../errors';
import { backoff } from '../backoff';
import type { BucketPolicy, Run } from '../domain';
import type { BuildRef, Executor } from '../ports';
import type { RunTransition } from '../ports/journal';
import type { CompiledRule } from '../intake/router';
import type { Lookup } from '../ports/lookup';
import { lookupVerdict, prepareParameters } from './lookups';
import { finishRun, nextDueOverExecutors, passOverExecutors, supersedeRun, transition, type PhaseClaim, type RunDeps } from './run-deps';

export interface DispatcherDeps extends RunDeps {
  random?: () => number;
  /** Runs claimed per executor and pass; more wait for the next pass. */
  concurrency?: number;
  retry?: { baseMs: number; maxMs: number };
  /** Triggers per second allowed against each executor, across every daemon sharing the journal. */
  triggerRate?: Map<string, BucketPolicy>;
  /** Rules whose runs may hold at most this many builds at once. */
  maxInFlight?: Record<string, number>;
  /**
   * Checks a job before its first build (an expression may name any job): resolves with the
   * reason it cannot be used, or null. Rules with a literal job are checked at start.
   */
  checkJob?: (executor: Executor, job: string, run: Run) => Promise<string | null>;
  /** The rule a run names, for what is done before its trigger (lookups, the whole event's limit). */
  rules?: (name: string) => CompiledRule | undefined;
  lookup?: Lookup;
  maxParameterLength?: number;
}

/**
 * Starts the builds of pending runs. Claiming a run marks it `triggering` (committed) before the
 * executor is called, so after a crash it is looked up by its CVP_RUN_ID instead of being
 * triggered again. A run whose trigger failed stays `triggering` and is looked up first too: the
 * request may have reached Jenkins with its answer lost.
 */
export class Dispatcher {
  private readonly concurrency: number;
  private readonly random: () => number;

  constructor(private readonly deps: DispatcherDeps) {
    this.concurrency = deps.concurrency ?? 32;
    this.random = deps.random ?? Math.random;
  }

  private budget(executor: string): { key: string; policy: BucketPolicy } | undefined {
    const policy = this.deps.triggerRate?.get(executor);
    return policy ? { key: `trigger:${executor}`, policy } : undefined;
  }

  private claimOf(executor: string): PhaseClaim {
    return { limit: this.concurrency, budget: this.budget(executor), maxInFlight: this.deps.maxInFlight };
  }

  /** One pass over due runs of every executor: claimed, triggered (or looked up), recorded in one commit. */
  runOnce(): Promise<number> {
    return passOverExecutors(this.deps, 'dispatch', (executor) => this.claimOf(executor), (run, claimedAt) => this.handle(run, this.triggerDeadline(claimedAt)));
  }

  nextDue(): Promise<number | null> {
    return nextDueOverExecutors(this.deps, 'dispatch', (executor) => this.claimOf(executor));
  }

  /**
   * The claim holds until claimedAt + leaseMs; then another daemon may take the run over, look it
   * up and, finding nothing, trigger it. A trigger is therefore sent only well before that (a
   * quarter of the lease, at least a second, kept for the request to reach Jenkins), so the two
   * never both start a build.
   */
  private triggerDeadline(claimedAt: number): number {
    const { leaseMs } = this.deps;
    return claimedAt + leaseMs - Math.min(leaseMs / 2, Math.max(1_000, leaseMs / 4));
  }

  private async handle(run: Run, deadline: number): Promise<RunTransition> {
    const { log } = this.deps;
    const executor = this.deps.executors.get(run.executor);
    if (!executor) return this.fail(run, `no executor named ${run.executor}`);
    if (run.claimedFrom === 'triggering') {
      // Triggered before? (a crash, or an answer lost on the way back)
      let ref: BuildRef | null;
      try {
        ref = await executor.locate(run.job, run.id, run.createdAt);
      } catch (err) {
        if (isPermanent(err)) return this.fail(run, describeError(err));
        return this.later(run, err, 'cannot look the run up yet');
      }
      if (ref) {
        log.info({ runId: run.id, job: run.job, ref }, 'build found; tracking it');
        if (run.supersededBy) await executor.cancel(run.job, ref).catch(() => undefined);
        return run.supersededBy ? supersedeRun(this.deps, { ...run, buildRef: ref }, 'triggering') : this.started(run, ref);
      }
    }
    if (run.supersededBy) return supersedeRun(this.deps, run, 'triggering');
    const unusable = await this.jobProblem(executor, run);
    if (unusable) return this.fail(run, unusable);
    let parameters = run.parameters;
    const rule = this.deps.rules?.(run.rule);
    if (rule) {
      try {
        parameters = await prepareParameters(rule.config, run.parameters, rule.lookups ?? [], run.lookups ?? [], this.deps.lookup,
          { maxParameterLength: this.deps.maxParameterLength ?? 4096 });
      } catch (err) {
        const v = lookupVerdict(err, run.attempts + 1, Math.max(1, ...(rule.lookups ?? []).map((l) => l.attempts)));
        if (!v.retry) return this.fail(run, v.reason);
        return this.later(run, err, 'a lookup failed', v.retryAfterMs);
      }
    }
    try {
      const ref = await executor.trigger(run.job, { ...parameters, CVP_RUN_ID: run.id }, run.id, deadline);
      log.info({ runId: run.id, messageId: run.messageId, job: run.job, ref }, 'build triggered');
      return this.started(run, ref);
    } catch (err) {
      if (isPermanent(err)) return this.fail(run, describeError(err));
      return this.later(run, err, 'trigger failed');
    }
  }

  /**
   * A job is checked before its first build (the checker remembers its verdict per job). A check
   * that could not reach the executor does not hold the run up: the trigger says what is wrong.
   */
  private async jobProblem(executor: Executor, run: Run): Promise<string | null> {
    if (!this.deps.checkJob) return null;
    try {
      return await this.deps.checkJob(executor, run.job, run);
    } catch {
      return null;
    }
  }

  /** Left in `triggering`, due again after a backoff: the next attempt looks the run up first. */
  private later(run: Run, err: unknown, what: string, atLeastMs = 0): RunTransition {
    const n = run.attempts + 1;
    const delay = Math.max(atLeastMs, backoff(n, this.random, this.deps.retry?.baseMs ?? 1_000, this.deps.retry?.maxMs ?? 300_000));
    this.deps.log.warn({ runId: run.id, job: run.job, err: describeError(err), retryInMs: delay }, `${what}; will retry`);
    return transition(run, 'triggering', { attempts: n, nextPollAt: this.deps.clock.now() + delay, errorReason: describeError(err) });
  }

  private started(run: Run, ref: BuildRef): RunTransition {
    const now = this.deps.clock.now();
    this.deps.metrics?.runTriggered();
    return transition(run, 'triggering', {
      state: ref.number !== undefined ? 'running' : 'queued',
      buildRef: ref,
      errorReason: null,
      deadlineAt: now + run.timeoutMs,
      nextPollAt: now,
      triggeredAt: now,
      ...(ref.number !== undefined ? { startedAt: now } : {}),
    }, this.deps.reporter.started(run, ref.url));
  }

  private fail(run: Run, reason: string): RunTransition {
    this.deps.log.error({ runId: run.id, messageId: run.messageId, job: run.job, reason }, 'run cannot start');
    return finishRun(this.deps, run, 'triggering', 'NOT_BUILT', undefined, reason, null);
  }
}
