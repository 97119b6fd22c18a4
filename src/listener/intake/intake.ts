import { createHash } from 'node:crypto';
import type { EventValidator } from '../../validator/event-validator';
import { safeParse, type ParseLimits } from '../../validator/safe-parse';
import { CvpError, describeError, permanentError } from '../../errors';
import type { GateKeeper } from '../gate/gate-keeper';
import type { Journal } from '../ports/journal';
import type { GateSubject, IntakeCommit, IntakeRecord, NewEffect, Verdict } from '../domain';
import { pipelineVerdict, resultEffect } from './pipeline-results';
import type { Bus, Clock, Delivery, Logger, Metrics } from '../ports';
import type { Router } from './router';

export type IntakeOutcome =
  | { status: 'accepted'; messageId: string; runIds: string[]; duplicateRuns: number }
  | { status: 'unmatched'; messageId: string }
  | { status: 'result'; messageId: string }
  | { status: 'rejected'; messageId: string; code: string; reasons: string[] }
  | { status: 'duplicate'; messageId: string };

export interface IntakeDeps {
  journal: Journal;
  validator: EventValidator;
  router: Router;
  clock: Clock;
  log: Logger;
  limits: ParseLimits;
  /** The bus to ack on, and to dead-letter to when there is one. */
  ackVia?: Pick<Bus, 'ack' | 'nack'>;
  deadLetter?: string;
  /** Called after each commit that created runs, so the dispatcher starts without waiting for a timer. */
  onRuns?: () => void;
  /** Called after a commit that queued effects (dead letters). */
  onEffects?: () => void;
  gate?: GateKeeper;
  /** Topics of pipelines' own test.complete / test.error messages. */
  pipelineTopics?: Set<string>;
  /** A pipeline's message named one of CVP's runs: end it now. */
  onPipelineVerdict?: (runId: string, outcome: string, url: string | undefined, reason: string | null) => void;
  metrics?: Metrics;
  maxBatch?: number;
}

interface Pending {
  delivery: Delivery;
  record: IntakeRecord;
  /** What to do once the record is committed (and only if it is new). */
  after?: () => void;
  resolve: (o: IntakeOutcome) => void;
  reject: (e: unknown) => void;
}

/** Reasons go into STOMP headers: one line each, bounded, control characters written out (a NUL would end the frame). */
function reasonHeaders(code: string, reasons: string[]): Record<string, string> {
  const headers: Record<string, string> = { 'cvp-error-code': code, 'cvp-reason-count': String(reasons.length) };
  reasons.slice(0, 20).forEach((r, i) => {
    headers[`cvp-reason-${i + 1}`] = r.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).slice(0, 500);
  });
  return headers;
}

/**
 * The core entry point: every message, from the bus, the HTTP intake or a replay, goes through
 * processEvent. It is judged and routed in memory, then committed to the journal in small batches
 * (one fsync for many messages), and acked only after its batch is committed.
 */
export class Intake {
  private batch: Pending[] = [];
  private flushScheduled = false;
  private readonly maxBatch: number;

  constructor(private readonly deps: IntakeDeps) {
    this.maxBatch = deps.maxBatch ?? 256;
  }

  processEvent(delivery: Delivery): Promise<IntakeOutcome> {
    const { record, after } = this.judge(delivery);
    return new Promise<IntakeOutcome>((resolve, reject) => {
      this.batch.push({ delivery, record, after, resolve, reject });
      if (this.batch.length >= this.maxBatch) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private judge(delivery: Delivery): { record: IntakeRecord; after?: () => void } {
    const { envelope } = delivery;
    const { log, validator, router, clock } = this.deps;
    const contentHash = createHash('sha256').update(envelope.topic).update('\n').update(envelope.body).digest('hex');
    let verdict: Verdict;
    const effects: NewEffect[] = [];
    let after: (() => void) | undefined;
    let gates: GateSubject[] | undefined;
    try {
      if (envelope.encodingError) throw permanentError('MESSAGE_NOT_JSON', envelope.encodingError);
      const body = safeParse(envelope.body, this.deps.limits);
      const validity = validator.validate(envelope.topic, body);
      if (!validity.valid) verdict = { kind: 'rejected', code: validity.code, reasons: validity.reasons };
      else {
        const json = body as Record<string, unknown>;
        const runs = router.route(envelope.topic, json, envelope.id);
        verdict = runs.length ? { kind: 'routed', runs } : { kind: 'unmatched' };
        if (runs.length && this.deps.gate) gates = this.deps.gate.subjectsFor(runs);
        if (this.deps.pipelineTopics?.has(envelope.topic)) {
          after = this.pipelineResult(envelope.topic, json, envelope.id, effects);
          if (verdict.kind === 'unmatched') verdict = { kind: 'result' };
        }
      }
    } catch (err) {
      const code = err instanceof CvpError ? err.code : 'MESSAGE_INVALID';
      const reasons = err instanceof CvpError ? err.reasons : [describeError(err)];
      verdict = { kind: 'rejected', code, reasons };
    }
    if (verdict.kind === 'rejected') {
      log.warn({ messageId: envelope.id, topic: envelope.topic, code: verdict.code, reasons: verdict.reasons }, 'message rejected');
      if (this.deps.deadLetter) {
        effects.push({
          peer: 'bus',
          runId: null,
          payload: {
            kind: 'publish',
            destination: this.deps.deadLetter,
            body: envelope.body,
            headers: { 'cvp-original-message-id': envelope.id, 'cvp-original-topic': envelope.topic, ...reasonHeaders(verdict.code, verdict.reasons) },
          },
        });
      }
    }
    return { record: { envelope, contentHash, verdict, effects, receivedAt: clock.now(), ...(gates?.length ? { gates } : {}) }, after };
  }

  /**
   * A pipeline's result: if it names one of CVP's runs (pipeline.id = CVP_RUN_ID), that run ends now
   * and reports as usual (so nothing is written twice; CVP's own messages name finished runs and
   * change nothing). Otherwise it is written to ResultsDB as the standard updater would.
   */
  private pipelineResult(topic: string, body: Record<string, unknown>, messageId: string, effects: NewEffect[]): () => void {
    const v = pipelineVerdict(topic, body, messageId);
    const run = v.pipelineId ? this.deps.journal.getRun(v.pipelineId) : null;
    if (run) return () => this.deps.onPipelineVerdict?.(run.id, v.outcome, v.runUrl, v.reason);
    effects.push(resultEffect(v));
    const item = { item: String(v.result.data.item), type: String(v.result.data.type) };
    return () => this.deps.gate?.afterResults([item]);
  }

  /** Commits whatever is batched now; used when stopping, so nothing received is left uncommitted. */
  drain(): void {
    this.flush();
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.batch;
    this.batch = [];
    if (!batch.length) return;
    let commits: IntakeCommit[];
    try {
      commits = this.deps.journal.commitIntake(batch.map((p) => p.record));
    } catch (err) {
      // Nothing was recorded, so nothing is acked, and nothing is nacked either: ActiveMQ sends a
      // NACKed message straight to its DLQ. Left unacked, it comes back after the next reconnect.
      this.deps.log.error({ err: describeError(err), count: batch.length }, 'journal commit failed; messages left unacked');
      for (const p of batch) p.reject(err);
      return;
    }
    let created = false;
    const effects = batch.some((p) => p.record.effects.length > 0);
    batch.forEach((p, i) => {
      const outcome = this.outcomeOf(p.record, commits[i]);
      if (commits[i].status === 'recorded') p.after?.();
      this.count(p.record, commits[i]);
      if (outcome.status === 'accepted' && outcome.runIds.length) created = true;
      this.deps.log.info({ messageId: p.record.envelope.id, topic: p.record.envelope.topic, status: outcome.status,
        runIds: outcome.status === 'accepted' ? outcome.runIds : undefined }, 'message recorded');
      void this.deps.ackVia?.ack(p.delivery).catch((err) =>
        this.deps.log.warn({ messageId: p.record.envelope.id, err: describeError(err) }, 'ack failed; the broker will redeliver and the journal will spot the duplicate'));
      p.resolve(outcome);
    });
    if (created) this.deps.onRuns?.();
    if (effects) this.deps.onEffects?.();
  }

  private count(record: IntakeRecord, commit: IntakeCommit): void {
    const m = this.deps.metrics;
    if (!m) return;
    // Only topics CVP knows become labels: anyone can post any topic to the intake.
    const topic = this.deps.validator.knows(record.envelope.topic) ? record.envelope.topic : 'unknown';
    if (commit.status === 'duplicate') m.messageJudged(topic, 'duplicate');
    else if (record.verdict.kind === 'rejected') {
      m.messageJudged(topic, 'rejected', record.verdict.code);
      if (record.effects.some((e) => e.payload.kind === 'publish')) m.deadLettered(topic);
    } else m.messageJudged(topic, 'valid');
  }

  private outcomeOf(record: IntakeRecord, commit: IntakeCommit): IntakeOutcome {
    const messageId = record.envelope.id;
    if (commit.status === 'duplicate') return { status: 'duplicate', messageId };
    const v = record.verdict;
    if (v.kind === 'rejected') return { status: 'rejected', messageId, code: v.code, reasons: v.reasons };
    if (v.kind === 'unmatched') return { status: 'unmatched', messageId };
    if (v.kind === 'result') return { status: 'result', messageId };
    return { status: 'accepted', messageId, runIds: commit.runIds, duplicateRuns: commit.duplicateRuns };
  }
}
