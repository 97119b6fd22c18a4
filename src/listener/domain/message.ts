import type { Envelope } from '../ports/bus';
import type { Effect, NewEffect } from './effect';
import type { GateSubject } from './gate';
import type { Run, RunPlan } from './run';

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
