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
}

export interface RunContext {
  topic: string;
  artifactType: string;
  artifactId: string;
  component?: string;
  advisory?: string;
  images: Array<{ name: string; nvr?: string; fullName?: string }>;
  messageId: string;
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
  slackTs: string | null;
  /** Failed trigger attempts, for the backoff. */
  attempts: number;
}

export type Peer = 'resultsdb' | 'slack' | 'bus';

export type EffectPayload =
  | { kind: 'result'; result: ResultRecord }
  | { kind: 'notice'; notice: Notice; role: 'start' | 'reply' }
  | { kind: 'publish'; destination: string; body: string; headers: Record<string, string> };

export interface NewEffect {
  peer: Peer;
  runId: string | null;
  payload: EffectPayload;
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
  | { kind: 'unmatched' };

export interface IntakeRecord {
  envelope: Envelope;
  contentHash: string;
  verdict: Verdict;
  effects: NewEffect[];
  receivedAt: number;
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
  slackTs?: string | null;
  attempts?: number;
}

export interface MessageRecord {
  messageId: string;
  topic: string;
  status: 'routed' | 'rejected' | 'unmatched';
  reasons: string[];
  receivedAt: number;
  body: string;
}

export interface EventStatus {
  message: MessageRecord;
  runs: Run[];
  effects: Effect[];
}

export interface Journal {
  commitIntake(records: IntakeRecord[]): IntakeCommit[];
  runsInState(states: RunState[], limit: number): Run[];
  runsDueForPoll(now: number, limit: number): Run[];
  nextPollAt(): number | null;
  getRun(runId: string): Run | null;
  /** Applies the patch and enqueues the effects in one transaction. */
  transitionRun(runId: string, patch: RunPatch, effects: NewEffect[], now: number): void;
  /** Due effects of one peer; an effect waits while an earlier one of the same run and peer is undelivered. */
  dueEffects(peer: Peer, now: number, limit: number): Effect[];
  nextEffectAt(peer: Peer): number | null;
  /** Counts an attempt and marks the effects in flight, before they are carried out. */
  claimEffects(effectIds: number[]): void;
  completeEffect(effectId: number, now: number, runPatch?: { runId: string; patch: RunPatch }): void;
  retryEffect(effectId: number, nextAt: number, error: string): void;
  failEffect(effectId: number, now: number, error: string): void;
  eventStatus(messageId: string): EventStatus | null;
  /** Message ids whose runs concern this artifact id or item (an NVR), newest first. */
  messagesAbout(artifact: string, limit: number): string[];
  /** Messages that were rejected, oldest first, received at or after `since`. */
  rejectedMessages(since: number, limit: number): MessageRecord[];
  close(): void;
}
