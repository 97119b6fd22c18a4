import type {
  Alarm, Change, Gate, HumanAction, Waiver,
  BucketPolicy, DecisionRecord, Effect, EventStatus, GateClaim, IntakeCommit, IntakeRecord, MessageRecord, Peer, Run, RunState,
  Settlement, ThreadState,
} from '../../listener/domain';
import type { ActionRecord, GateSettlement, Journal, Lease, PruneReport, RetentionPolicy, RunClaim, RunTransition } from '../../listener/ports/journal';
import type { JournalQueries, JournalStats } from '../../listener/ports/journal-queries';

/** The operations a store serves, by name: what crosses a thread or a connection is data only. */
export type StoreOp = keyof Journal | keyof JournalQueries;

/**
 * Both journal ports over one `call(op, args)`: the SQLite adapter calls a store in its worker
 * thread (or in-process), and the same method list serves either way.
 */
export abstract class StoreJournal implements Journal, JournalQueries {
  protected abstract call<T>(op: StoreOp, args: unknown[]): Promise<T>;

  commitIntake(records: IntakeRecord[]): Promise<IntakeCommit[]> { return this.call('commitIntake', [records]); }
  runState(runId: string): Promise<RunState | null> { return this.call('runState', [runId]); }
  claimRuns(claim: RunClaim): Promise<Run[]> { return this.call('claimRuns', [claim]); }
  settleRuns(owner: string, transitions: RunTransition[], now: number): Promise<boolean[]> { return this.call('settleRuns', [owner, transitions, now]); }
  releaseRuns(owner: string, runIds: string[]): Promise<void> { return this.call('releaseRuns', [owner, runIds]); }
  nextRunDue(phase: 'dispatch' | 'track', executor: string, now: number, budget?: { key: string; policy: BucketPolicy }, maxInFlight?: Record<string, number>): Promise<number | null> {
    return this.call('nextRunDue', [phase, executor, now, budget, maxInFlight]);
  }
  claimEffects(peer: Peer, lease: Lease, limit: number): Promise<Effect[]> { return this.call('claimEffects', [peer, lease, limit]); }
  settleEffects(owner: string, settlements: Settlement[], now: number): Promise<void> { return this.call('settleEffects', [owner, settlements, now]); }
  nextEffectDue(peer: Peer, now: number): Promise<number | null> { return this.call('nextEffectDue', [peer, now]); }
  thread(thread: string, channel: string): Promise<ThreadState | null> { return this.call('thread', [thread, channel]); }
  claimGates(lease: Lease, limit: number): Promise<GateClaim[]> { return this.call('claimGates', [lease, limit]); }
  settleGates(owner: string, settlements: GateSettlement[], now: number): Promise<boolean[]> { return this.call('settleGates', [owner, settlements, now]); }
  nextGateDue(now: number): Promise<number | null> { return this.call('nextGateDue', [now]); }
  gate(key: string): Promise<Gate | null> { return this.call('gate', [key]); }
  run(runId: string): Promise<Run | null> { return this.call('run', [runId]); }
  waiver(id: string): Promise<Waiver | null> { return this.call('waiver', [id]); }
  recordAction(record: ActionRecord): Promise<'recorded' | 'duplicate'> { return this.call('recordAction', [record]); }
  lastReceived(topics: string[]): Promise<Record<string, number | null>> { return this.call('lastReceived', [topics]); }
  oldestUnfinished(): Promise<Array<{ rule: string; runId: string; createdAt: number }>> { return this.call('oldestUnfinished', []); }
  setAlarm(alarm: Alarm, change: Change): Promise<boolean> { return this.call('setAlarm', [alarm, change]); }
  alarms(): Promise<Alarm[]> { return this.call('alarms', []); }
  actions(product: string | undefined, limit: number): Promise<HumanAction[]> { return this.call('actions', [product, limit]); }
  waivers(product: string | undefined, withRevoked: boolean, limit: number): Promise<Waiver[]> { return this.call('waivers', [product, withRevoked, limit]); }
  recentMessages(limit: number, status?: MessageRecord['status']): Promise<MessageRecord[]> { return this.call('recentMessages', [limit, status]); }
  claimOwners(): Promise<string[]> { return this.call('claimOwners', []); }
  releaseClaims(owners: string[]): Promise<number> { return this.call('releaseClaims', [owners]); }
  probe(now: number): Promise<void> { return this.call('probe', [now]); }
  prune(policy: RetentionPolicy, now: number): Promise<PruneReport> { return this.call('prune', [policy, now]); }
  eventStatus(messageId: string): Promise<EventStatus | null> { return this.call('eventStatus', [messageId]); }
  messagesAbout(artifact: string, limit: number): Promise<string[]> { return this.call('messagesAbout', [artifact, limit]); }
  rejectedMessages(since: number, limit: number): Promise<MessageRecord[]> { return this.call('rejectedMessages', [since, limit]); }
  decisions(product: string | undefined, limit: number): Promise<DecisionRecord[]> { return this.call('decisions', [product, limit]); }
  stats(now: number): Promise<JournalStats> { return this.call('stats', [now]); }
  abstract close(): Promise<void>;
}
