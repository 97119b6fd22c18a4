/**
 * The journal port: the one place every state change is committed before it is acted on.
 * Operations are shaped so that a PostgreSQL implementation can serve them with row locks
 * (claiming due effects/runs with SKIP LOCKED); SQLite specifics stay in its adapter.
 */
import type { BuildRef, Envelope, ResultRecord, Notice } from './ports';

export type RunState = 'pending' | 'triggering' | 'queued' | 'running' | 'finished';

export interface ReportItem {
  /** ResultsDB item: the image NVR, or the artifact id when results are kept per artifact. */
  item: string;
  type: string;
  /** Extra `data` keys for this item (component, image name, ...). */
  data: Record<string, string>;
}

export interface RunPlan {
  id: string;
  rule: string;
  executor: string;
  job: string;
  parameters: Record<string, string>;
  testcase: string;
  items: ReportItem[];
  /** What the notices say about the event: component, artifact id, advisory, images. */
  context: RunContext;
  timeoutMs: number;
  /** The product whose gate this run's results feed, if any. */
  product?: string;
  /** Slack channel of this run's notices (the rule's, the product's or the default). */
  channel?: string;
  /** Images of the event that were not rebuilt: they get a not_applicable (INFO) result. */
  notRebuilt?: ReportItem[];
  /** The result kept for the whole group, besides one per image. */
  groupItem?: ReportItem;
}

/** Every item a run reports on: those under test, those not rebuilt, and the group itself. */
export function allItems(plan: Pick<RunPlan, 'items' | 'notRebuilt' | 'groupItem'>): ReportItem[] {
  return [...plan.items, ...(plan.notRebuilt ?? []), ...(plan.groupItem ? [plan.groupItem] : [])];
}

export interface RunContext {
  topic: string;
  artifactType: string;
  artifactId: string;
  component?: string;
  advisory?: string;
  images: Array<{ name: string; nvr?: string; fullName?: string }>;
  messageId: string;
  /** Every job the event starts, for the thread's first notice. */
  jobs?: string[];
  /** The event's artifact as it came, for the CI messages about it (single artifacts). */
  artifact?: Record<string, unknown>;
}

export interface Run extends RunPlan {
  messageId: string;
  state: RunState;
  buildRef: BuildRef | null;
  buildResult: string | null;
  outcome: string | null;
  errorReason: string | null;
  createdAt: number;
  updatedAt: number;
  deadlineAt: number | null;
  nextPollAt: number | null;
  /** Failed trigger attempts, for the backoff. */
  attempts: number;
}

export type Peer = 'resultsdb' | 'slack' | 'bus' | 'release';

export type EffectPayload =
  | { kind: 'result'; result: ResultRecord }
  | { kind: 'notice'; notice: Notice; role: 'start' | 'reply'; thread: string }
  | { kind: 'publish'; destination: string; body: string; headers: Record<string, string> }
  | { kind: 'http'; url: string; method: 'POST' | 'PUT'; body: string; idempotencyKey: string };

export interface NewEffect {
  peer: Peer;
  runId: string | null;
  payload: EffectPayload;
  /** Effects of one peer with the same key are delivered in order (default: the run, else the message). */
  orderKey?: string;
}

export interface Effect extends NewEffect {
  id: number;
  messageId: string | null;
  state: 'pending' | 'done' | 'failed';
  attempts: number;
  nextAt: number;
  lastError: string | null;
  /** An earlier process began delivering it and died before it knew the outcome. */
  interrupted: boolean;
  createdAt: number;
  doneAt: number | null;
}

export type Verdict =
  | { kind: 'rejected'; code: string; reasons: string[] }
  | { kind: 'routed'; runs: RunPlan[] }
  | { kind: 'unmatched' }
  /** A pipeline's own result, taken in. */
  | { kind: 'result' };

export interface IntakeRecord {
  envelope: Envelope;
  contentHash: string;
  verdict: Verdict;
  effects: NewEffect[];
  receivedAt: number;
  /** Gates the routed runs feed; created if new. */
  gates?: GateSubject[];
}

export interface IntakeCommit {
  /** duplicate: this message id was journaled before; nothing new was recorded. */
  status: 'recorded' | 'duplicate';
  /** Runs created now; runs of a rule that already ran this same event are left out. */
  runIds: string[];
  duplicateRuns: number;
}

export interface RunPatch {
  state?: RunState;
  buildRef?: BuildRef | null;
  buildResult?: string | null;
  outcome?: string | null;
  errorReason?: string | null;
  deadlineAt?: number | null;
  nextPollAt?: number | null;
  attempts?: number;
}

export interface MessageRecord {
  messageId: string;
  topic: string;
  status: 'routed' | 'rejected' | 'unmatched' | 'result';
  reasons: string[];
  receivedAt: number;
  body: string;
}

export interface EventStatus {
  message: MessageRecord;
  runs: Run[];
  effects: Effect[];
}

/** A result as the gate sees it: what CVP wrote or took in, latest first. */
export interface KnownResult {
  item: string;
  type: string;
  testcase: string;
  outcome: string;
  refUrl: string | null;
  createdAt: number;
}

export interface GateSubject {
  key: string;
  product: string;
  artifactType: string;
  artifactId: string;
  messageId: string;
  items: Array<{ item: string; type: string }>;
  context: RunContext;
  channel?: string;
}

export interface Gate extends GateSubject {
  decision: 'pass' | 'fail' | null;
  reasons: GateReason[];
  released: boolean;
  updatedAt: number;
}

export interface GateReason { testcase: string; item: string; type: string; outcome: string; ref_url?: string; why: string }

export interface DecisionRecord {
  gateKey: string;
  decision: 'pass' | 'fail';
  mode: string;
  action: string;
  reasons: GateReason[];
  createdAt: number;
}

export type Settlement =
  | { id: number; state: 'done'; thread?: { thread: string; channel: string; ts: string } }
  | { id: number; state: 'retry'; nextAt: number; error: string }
  | { id: number; state: 'failed'; error: string };

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
