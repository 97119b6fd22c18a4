import type { Change, OutcomeTable, Run, RunState } from '../domain';
import { outcomeOf } from '../domain/outcome';
import type { Reporter } from '../effects/reporter';
import type { BuildRef, Clock, Executor, Logger, Metrics } from '../ports';
import type { Journal, RunClaim, RunTransition } from '../ports/journal';

/** What the parts that move runs along (dispatcher, tracker) both use. */
export interface RunDeps {
  journal: Journal;
  executors: Map<string, Executor>;
  reporter: Reporter;
  outcomes: OutcomeTable;
  clock: Clock;
  log: Logger;
  metrics?: Metrics;
  /** This process's claim owner, and how long a claim holds. */
  owner: string;
  leaseMs: number;
}

/** How one phase claims the runs of an executor: its limit, shared budget and in-flight caps. */
export type PhaseClaim = Pick<RunClaim, 'limit' | 'budget' | 'maxInFlight'>;

/**
 * One pass of a phase over every executor: its due runs claimed under a lease, handled together,
 * and settled in one commit, so a pass costs one journal write per executor, not one per run.
 */
export async function passOverExecutors(
  d: Pick<RunDeps, 'journal' | 'clock' | 'owner' | 'leaseMs' | 'executors'>, phase: RunClaim['phase'],
  claimOf: (executor: string) => PhaseClaim, handle: (run: Run, claimedAt: number) => Promise<RunTransition>,
): Promise<number> {
  let handled = 0;
  for (const executor of d.executors.keys()) {
    const claimedAt = d.clock.now();
    const runs = await d.journal.claimRuns({ owner: d.owner, now: claimedAt, leaseMs: d.leaseMs, phase, executor, ...claimOf(executor) });
    if (!runs.length) continue;
    const transitions = await Promise.all(runs.map((run) => handle(run, claimedAt)));
    await d.journal.settleRuns(d.owner, transitions, d.clock.now());
    handled += runs.length;
  }
  return handled;
}

/** The earliest time any executor has a run of this phase due (its budget and caps allowing). */
export async function nextDueOverExecutors(
  d: Pick<RunDeps, 'journal' | 'clock' | 'executors'>, phase: RunClaim['phase'], claimOf: (executor: string) => PhaseClaim,
): Promise<number | null> {
  let next: number | null = null;
  for (const executor of d.executors.keys()) {
    const { budget, maxInFlight } = claimOf(executor);
    const due = await d.journal.nextRunDue(phase, executor, d.clock.now(), budget, maxInFlight);
    if (due !== null && (next === null || due < next)) next = due;
  }
  return next;
}

export function transition(run: Run, expect: RunState, patch: RunTransition['patch'], change?: Change): RunTransition {
  return { runId: run.id, expect, patch, effects: change?.effects ?? [], results: change?.results ?? [], touch: change?.touch ?? [] };
}

/**
 * Ends a run: one final result per item under test (and the group) and a notice, committed with
 * the state change. `outcome` overrides the table (a pipeline's own verdict).
 */
export function finishRun(
  d: Pick<RunDeps, 'reporter' | 'outcomes' | 'clock' | 'log' | 'metrics'>, run: Run, expect: RunState,
  buildResult: string, url: string | undefined, reason: string | null, ref: BuildRef | null = run.buildRef, outcome?: string,
): RunTransition {
  const final = outcome ?? outcomeOf(buildResult, d.outcomes);
  d.log.info({ runId: run.id, messageId: run.messageId, job: run.job, buildResult, outcome: final, reason }, 'run finished');
  d.metrics?.runFinished(final);
  return transition(run, expect, {
    state: 'finished', buildRef: ref, buildResult, outcome: final, errorReason: reason, nextPollAt: null, finishedAt: d.clock.now(),
  }, d.reporter.finished(run, final, url, reason));
}

/** A newer event for the same artifact took the run's place: it ends without a verdict. */
export function supersedeRun(d: Pick<RunDeps, 'reporter' | 'clock' | 'log'>, run: Run, expect: RunState): RunTransition {
  d.log.info({ runId: run.id, messageId: run.messageId, job: run.job, supersededBy: run.supersededBy }, 'run superseded');
  return transition(run, expect, {
    state: 'finished', outcome: null, buildResult: 'SUPERSEDED', errorReason: `superseded by run ${run.supersededBy}`,
    nextPollAt: null, finishedAt: d.clock.now(),
  }, d.reporter.superseded(run, run.supersededBy ?? '', run.buildRef?.url));
}
