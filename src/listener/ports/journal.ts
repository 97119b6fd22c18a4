/**
 * The journal port: the one place every state change is committed before it is acted on.
 *
 * Modelled on BullMQ's queue backend: every operation is asynchronous and data-only (no
 * transaction, connection or callback crosses it), batch-shaped where the core works in batches,
 * and work is claimed by an owner under a lease, so that several daemons can share one journal
 * (PostgreSQL: row locks and SKIP LOCKED) and a dead daemon's work is taken over when its lease
 * ends. Transitions are conditional on the state and owner the caller expects. The core wakes its
 * loops only after a commit has resolved, never inside one.
 */
import type {
  Alarm, BucketPolicy, Change, Effect, Gate, GateClaim, HumanAction, RunPlan, Waiver, IntakeCommit, IntakeRecord, ItemRef, NewEffect, NewResult, Peer, Run, RunPatch, RunState,
  Settlement, ThreadState, DecisionRecord,
} from '../domain';

/** Who claims, for how long, and at what time. */
export interface Lease {
  /** `<host>/<pid>/<nonce>`: unique per process, so a restarted daemon on the same host can tell its predecessor's claims. */
  owner: string;
  now: number;
  leaseMs: number;
}

export interface RunClaim extends Lease {
  /**
   * dispatch: pending runs (claiming one marks it `triggering`, committed before any build is
   * started) and `triggering` runs whose retry is due. track: `queued`/`running` runs whose poll is due.
   */
  phase: 'dispatch' | 'track';
  executor: string;
  limit: number;
  /** A rate shared by every daemon (polls or triggers per second against this executor). */
  budget?: { key: string; policy: BucketPolicy };
  /** dispatch: rules whose runs may hold at most this many builds at once (oldest pending run first). */
  maxInFlight?: Record<string, number>;
}

export interface RunTransition {
  runId: string;
  /** Applied only if the run is still in this state and claimed by the caller. */
  expect: RunState;
  patch: RunPatch;
  effects: NewEffect[];
  /** Results the gate may count from now on. */
  results: NewResult[];
  /** Gates holding these items are evaluated again. */
  touch: ItemRef[];
}

export interface GateSettlement {
  key: string;
  /** The version the claim returned: a gate touched since stays due for another evaluation. */
  version: number;
  /** A new decision, recorded with what it sets off; none when the verdict did not change. */
  decision?: DecisionRecord;
  released?: boolean;
  effects: NewEffect[];
}

export interface Journal {
  /** Records a batch of messages and what each sets off, in one commit. A message id seen before is a duplicate. */
  commitIntake(records: IntakeRecord[]): Promise<IntakeCommit[]>;
  /** The state of a run, or null when no run has this id (a pipeline's `pipeline.id` may name anything). */
  runState(runId: string): Promise<RunState | null>;

  /** Claims due runs (see RunClaim) under a lease; returns the claimed runs with `claimedFrom` set. */
  claimRuns(claim: RunClaim): Promise<Run[]>;
  /** Applies each transition if its run is in the expected state and claimed by `owner`, and releases the claim. */
  settleRuns(owner: string, transitions: RunTransition[], now: number): Promise<boolean[]>;
  /** Gives claimed runs back untouched (a pass that cannot use them now). */
  releaseRuns(owner: string, runIds: string[]): Promise<void>;
  /**
   * When the next run of this phase and executor falls due: its own time, or the end of another
   * owner's lease on it, or the shared budget's next burst of tokens; pending runs of a rule at its
   * in-flight limit are not due.
   */
  nextRunDue(phase: 'dispatch' | 'track', executor: string, now: number, budget?: { key: string; policy: BucketPolicy }, maxInFlight?: Record<string, number>): Promise<number | null>;

  /**
   * Claims due effects of one peer under a lease and counts an attempt, before they are carried out.
   * An effect waits while an earlier one with the same order key is undelivered.
   */
  claimEffects(peer: Peer, lease: Lease, limit: number): Promise<Effect[]>;
  /** Records how a batch of deliveries went, in one commit; only the claim's owner can settle it. */
  settleEffects(owner: string, settlements: Settlement[], now: number): Promise<void>;
  /** When the next effect of this peer falls due (its own time, or the end of another owner's lease on it). */
  nextEffectDue(peer: Peer, now: number): Promise<number | null>;
  /** An event's Slack thread in a channel. */
  thread(thread: string, channel: string): Promise<ThreadState | null>;

  /** Claims gates touched since they were last evaluated, with every result known for their items. */
  claimGates(lease: Lease, limit: number): Promise<GateClaim[]>;
  settleGates(owner: string, settlements: GateSettlement[], now: number): Promise<boolean[]>;
  nextGateDue(now: number): Promise<number | null>;

  /** A gate by key (what a person's action names), with its latest decision. */
  gate(key: string): Promise<Gate | null>;
  /** A run by id (what a rerun names). */
  run(runId: string): Promise<Run | null>;
  /** A waiver by id (what a revoke names). */
  waiver(id: string): Promise<Waiver | null>;
  /**
   * Records a person's action once (a second one with the same id is a duplicate and changes
   * nothing), with what it sets off, in one commit: a waiver given or revoked, a run made again,
   * effects, and gates to look at again.
   */
  recordAction(record: ActionRecord): Promise<'recorded' | 'duplicate'>;

  /** When each of these topics last delivered a message (epoch ms), null if never (within retention). */
  lastReceived(topics: string[]): Promise<Record<string, number | null>>;
  /** The oldest unfinished run of each rule. */
  oldestUnfinished(): Promise<Array<{ rule: string; runId: string; createdAt: number }>>;
  /**
   * Raises or clears an alarm unless it already is so (every daemon may ask; one changes it), with
   * what the change sets off. True when this call changed it.
   */
  setAlarm(alarm: Alarm, change: Change): Promise<boolean>;
  alarms(): Promise<Alarm[]>;

  /** Owners holding claims now (to release those of a predecessor that died). */
  claimOwners(): Promise<string[]>;
  releaseClaims(owners: string[]): Promise<number>;

  /** A real write (not a read of a flag): throws when the journal cannot commit. */
  probe(now: number): Promise<void>;
  /** Deletes what retention no longer needs; see RetentionPolicy. */
  prune(policy: RetentionPolicy, now: number): Promise<PruneReport>;
  close(): Promise<void>;
  /**
   * Optional: tells this process when another one committed work it may claim (PostgreSQL's
   * LISTEN/NOTIFY), so its loops need not wait for their next timer. Never called inside a commit.
   */
  onChange?(listener: (what: 'runs' | 'effects' | 'gates') => void): void;
}

export interface ActionRecord {
  action: HumanAction;
  waiver?: Waiver;
  /** A waiver taken back. */
  revoke?: { waiverId: string; at: number; by: string };
  /** A run made again for the same event: a new plan (new id), claimed like any pending run. */
  rerun?: RunPlan & { messageId: string };
  /** The gate this action releases: recorded only if it was not released yet (else the action is a duplicate). */
  releaseGate?: string;
  change: Change;
}

export interface RetentionPolicy {
  /** Finished runs, delivered or failed effects, and messages older than this (ms) are deleted. */
  maxAgeMs: number;
  /** Rows deleted per table per call, so one call stays short. */
  batch: number;
}

export interface PruneReport {
  messages: number;
  runs: number;
  effects: number;
  results: number;
  gates: number;
}
