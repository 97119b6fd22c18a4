import type { Envelope } from '../ports/bus';
import type { Effect, NewEffect } from './effect';
import type { GateSubject, ItemRef, NewResult } from './gate';
import type { Run, RunPlan, RunReport } from './run';

export type Verdict =
  | { kind: 'rejected'; code: string; reasons: string[] }
  | { kind: 'routed'; runs: RunPlan[] }
  | { kind: 'unmatched' }
  /** A pipeline's own result, taken in. */
  | { kind: 'result' };

/** Everything one message sets off, committed at once (or not at all) before it is acked. */
export interface IntakeRecord {
  envelope: Envelope;
  contentHash: string;
  verdict: Verdict;
  effects: NewEffect[];
  /** Results the gate may count from now on (a pipeline's own result, taken in). */
  results: NewResult[];
  /** Gates holding any of these items are evaluated again. */
  touch: ItemRef[];
  receivedAt: number;
  /** Gates the routed runs feed; created if new. */
  gates: GateSubject[];
  /** A pipeline's verdict on one of CVP's runs: kept on the run, which the tracker then ends with it. */
  report?: { runId: string; report: RunReport };
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
