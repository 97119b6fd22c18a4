/**
 * The journal port: the one place every state change is committed before it is acted on.
 * Operations are shaped so that a PostgreSQL implementation can serve them with row locks
 * (claiming due effects/runs with SKIP LOCKED); SQLite specifics stay in its adapter.
 */
import type {
  DecisionRecord, Effect, EventStatus, Gate, IntakeCommit, IntakeRecord, KnownResult, MessageRecord, NewEffect, Peer, Run,
  RunPatch, RunState, Settlement,
} from '../domain';

export interface Journal {
  /** Runs `fn` as one transaction (one commit for many changes); nested calls join the outer one. */
  atomically<T>(fn: () => T): T;
  commitIntake(records: IntakeRecord[]): IntakeCommit[];
  /** Runs in these states, oldest first; with `dueBy`, only those whose next attempt is due by then. */
  runsInState(states: RunState[], limit: number, dueBy?: number): Run[];
  runsDueForPoll(now: number, limit: number): Run[];
  nextPollAt(): number | null;
  getRun(runId: string): Run | null;
  /**
   * A build was accepted: the patch, the claim of the event's Slack thread (first run to start opens
   * it) and the effects that depend on that claim, in one transaction.
   */
  startRun(runId: string, patch: RunPatch, thread: { thread: string; channel: string }, effectsFor: (firstOfThread: boolean) => NewEffect[], now: number): void;
  /** Applies the patch and enqueues the effects in one transaction. */
  transitionRun(runId: string, patch: RunPatch, effects: NewEffect[], now: number): void;
  /** Due effects of one peer; an effect waits while an earlier one of the same run and peer is undelivered. */
  dueEffects(peer: Peer, now: number, limit: number): Effect[];
  nextEffectAt(peer: Peer): number | null;
  /** Counts an attempt and marks the effects in flight, before they are carried out. */
  claimEffects(effectIds: number[]): void;
  /** Records how a batch of deliveries went, in one transaction. A thread's first notice also records its ts. */
  settleEffects(settlements: Settlement[], now: number): void;
  eventStatus(messageId: string): EventStatus | null;
  /** The Slack thread of an event in a channel, once its first notice is posted. */
  threadTs(thread: string, channel: string): string | null;
  /** Creates the gate of a product's artifact if it is new (in the intake commit). */
  gate(key: string): Gate | null;
  gatesForItem(item: string, type: string): string[];
  openGates(limit: number): string[];
  latestResults(items: Array<{ item: string; type: string }>): KnownResult[];
  /** Records a decision and what it sets off, in one transaction. */
  recordDecision(record: DecisionRecord, released: boolean, effects: NewEffect[], now: number): void;
  decisions(gateKey: string): DecisionRecord[];
  /** Every decision, newest first; of one product when named. */
  allDecisions(product: string | undefined, limit: number): DecisionRecord[];
  /** For metrics: runs by state, undelivered effects by peer, the oldest unfinished run. */
  stats(now: number): { runsByState: Record<string, number>; effectsPending: Record<string, number>; oldestUnfinishedRunAgeSeconds: number };
  /** True when a write transaction can be started (the disk is writable, the file not locked for long). */
  writable(): boolean;
  /** Message ids whose runs concern this artifact id or item (an NVR), newest first. */
  messagesAbout(artifact: string, limit: number): string[];
  /** Messages that were rejected, oldest first, received at or after `since`. */
  rejectedMessages(since: number, limit: number): MessageRecord[];
  close(): void;
}
