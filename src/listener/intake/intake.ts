import { createHash } from 'node:crypto';
import { CvpError, describeError, permanentError, transientError } from '../../errors';
import type { EventValidator } from '../../validator/event-validator';
import { safeParse, type ParseLimits } from '../../validator/safe-parse';
import { backoff } from '../backoff';
import type { IntakeCommit, IntakeRecord, NewEffect, Verdict } from '../domain';
import { knownResult } from '../effects/reporter';
import type { GateKeeper } from '../gate/gate-keeper';
import { isJournalFailure, type JournalHealth } from '../journal-health';
import type { Bus, Clock, Delivery, Logger, Metrics } from '../ports';
import type { Journal } from '../ports/journal';
import { pipelineVerdict } from './pipeline-results';
import { isSimulated } from './simulated';
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
  health: JournalHealth;
  /** The bus to ack on, and to dead-letter to when there is one. */
  ackVia?: Pick<Bus, 'ack'>;
  deadLetter?: string;
  /** Called after each commit that created runs, so the dispatcher starts without waiting for a timer. */
  onRuns?: () => void;
  /** Called after a commit that recorded effects or touched gates. */
  onEffects?: () => void;
  gate?: GateKeeper;
  /** Topics of pipelines' own test.complete / test.error messages. */
  pipelineTopics?: Set<string>;
  metrics?: Metrics;
  maxBatch?: number;
  /** Reasons kept per rejected message (in the journal, the log and the dead letter's headers). */
  maxReasons?: number;
}

interface Pending {
  delivery: Delivery;
  record: IntakeRecord;
  resolve: (o: IntakeOutcome) => void;
  reject: (e: unknown) => void;
}

/** Reasons go into STOMP headers: one line each, bounded, control characters written out (a NUL would end the frame). */
function reasonHeaders(code: string, reasons: string[], total: number): Record<string, string> {
  const headers: Record<string, string> = { 'cvp-error-code': code, 'cvp-reason-count': String(total) };
  reasons.forEach((r, i) => {
    headers[`cvp-reason-${i + 1}`] = r.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).slice(0, 500);
  });
  return headers;
}

/**
 * The core entry point: every message, from the bus, the HTTP intake or a replay, goes through
 * processEvent. It is judged and routed in memory, then committed to the journal in small batches
 * (one commit for many messages), and acked only after its batch is committed. While the journal
 * cannot commit, bus messages are held (the broker's prefetch bounds them) and committed when it
 * can again; others are refused as transient.
 */
export class Intake {
  private batch: Pending[] = [];
  private held: Pending[] = [];
  private flushScheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private closing = false;
  private readonly maxBatch: number;
  private readonly maxReasons: number;

  constructor(private readonly deps: IntakeDeps) {
    this.maxBatch = deps.maxBatch ?? 256;
    this.maxReasons = deps.maxReasons ?? 20;
  }

  async processEvent(delivery: Delivery): Promise<IntakeOutcome> {
    if (this.closing) throw transientError('BUS_UNAVAILABLE', 'the daemon is stopping; the message will be redelivered');
    const record = await this.judge(delivery);
    return new Promise<IntakeOutcome>((resolve, reject) => {
      this.batch.push({ delivery, record, resolve, reject });
      if (this.batch.length >= this.maxBatch) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * The message's verdict and everything it sets off. A message that is itself wrong is rejected
   * (dead-lettered, acked); a failure of CVP's own (a journal read, a bug) throws, so the message
   * is left unacked and comes back.
   */
  private async judge(delivery: Delivery): Promise<IntakeRecord> {
    const { envelope } = delivery;
    const { log, validator, router, clock } = this.deps;
    const contentHash = createHash('sha256').update(envelope.topic).update('\n').update(envelope.body).digest('hex');
    const record: IntakeRecord = {
      envelope, contentHash, verdict: { kind: 'unmatched' }, effects: [], results: [], touch: [], gates: [], receivedAt: clock.now(),
    };
    let body: unknown;
    try {
      if (envelope.encodingError) throw permanentError('MESSAGE_NOT_JSON', envelope.encodingError);
      body = safeParse(envelope.body, this.deps.limits);
      const validity = validator.validate(envelope.topic, body);
      if (!validity.valid) return this.rejected(record, { kind: 'rejected', code: validity.code, reasons: validity.reasons });
    } catch (err) {
      if (!(err instanceof CvpError) || !err.permanent) throw err;
      return this.rejected(record, { kind: 'rejected', code: err.code, reasons: err.reasons });
    }
    const json = body as Record<string, unknown>;
    // The body's text too: checks read numbers and key order as the plugin's parser does.
    const runs = router.route(envelope.topic, json, envelope.id, envelope.body, envelope.headers);
    if (runs.length) {
      record.verdict = { kind: 'routed', runs };
      if (this.deps.gate) record.gates = this.deps.gate.subjectsFor(runs);
    }
    if (this.deps.pipelineTopics?.has(envelope.topic)) {
      await this.pipelineResult(record, json);
      if (record.verdict.kind === 'unmatched') record.verdict = { kind: 'result' };
    }
    if (record.verdict.kind === 'unmatched') log.debug({ messageId: envelope.id, topic: envelope.topic }, 'no rule matches');
    return record;
  }

  private rejected(record: IntakeRecord, verdict: Extract<Verdict, { kind: 'rejected' }>): IntakeRecord {
    const { envelope } = record;
    const total = verdict.reasons.length;
    const reasons = verdict.reasons.slice(0, this.maxReasons).map((r) => r.slice(0, 1000));
    if (total > reasons.length) reasons.push(`… and ${total - reasons.length} more`);
    record.verdict = { kind: 'rejected', code: verdict.code, reasons };
    this.deps.log.warn({ messageId: envelope.id, topic: envelope.topic, code: verdict.code, reasons, reasonCount: total }, 'message rejected');
    if (this.deps.deadLetter) {
      record.effects.push({
        peer: 'bus',
        runId: null,
        orderKey: `dead-letter|${envelope.id}`,
        payload: {
          kind: 'publish',
          destination: this.deps.deadLetter,
          body: envelope.body,
          headers: { 'cvp-original-message-id': envelope.id, 'cvp-original-topic': envelope.topic, ...reasonHeaders(verdict.code, reasons, total) },
        },
      } satisfies NewEffect);
    }
    return record;
  }

  /**
   * A pipeline's result: if it names one of CVP's runs (pipeline.id = CVP_RUN_ID) that has not
   * ended, the verdict is kept on the run and the tracker ends it with it (so nothing is written
   * twice; CVP's own messages name ended runs and change nothing). Otherwise it is written to
   * ResultsDB as the standard results updater would.
   */
  private async pipelineResult(record: IntakeRecord, body: Record<string, unknown>): Promise<void> {
    const v = pipelineVerdict(record.envelope.topic, body, record.envelope.id, record.envelope.headers);
    const state = v.pipelineId ? await this.deps.journal.runState(v.pipelineId) : null;
    if (state === 'finished') return;
    if (state !== null) {
      record.report = { runId: v.pipelineId, report: { outcome: v.outcome, ...(v.runUrl ? { url: v.runUrl } : {}), reason: v.reason } };
      return;
    }
    if (isSimulated(body, record.envelope.headers)) {
      // A tester's result: kept apart from real ones, as a scratch build is.
      v.result.data.type = `${String(v.result.data.type)}_simulated`;
      v.result.data.cvp_simulated = 'true';
    }
    const item = { item: String(v.result.data.item), type: String(v.result.data.type) };
    record.effects.push({ peer: 'resultsdb', runId: null, orderKey: `result|${item.type}|${item.item}`, payload: { kind: 'result', result: v.result } });
    record.results.push(knownResult(v.result, record.envelope.id));
    record.touch.push(item);
  }

  /** Stops taking messages and commits what was received (held ones included, if the journal can). */
  async drain(): Promise<void> {
    this.closing = true;
    this.flush();
    if (this.retryTimer) { clearTimeout(this.retryTimer); this.retryTimer = null; }
    if (this.held.length) { this.batch.push(...this.held); this.held = []; this.flush(); }
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.batch;
    this.batch = [];
    if (!batch.length) return;
    const p = this.commit(batch).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async commit(batch: Pending[]): Promise<void> {
    const { journal, log, clock, health } = this.deps;
    let commits: IntakeCommit[];
    try {
      commits = await journal.commitIntake(batch.map((p) => p.record));
    } catch (err) {
      // Nothing was recorded, so nothing is acked, and nothing is nacked either: ActiveMQ sends a
      // NACKed message straight to its DLQ.
      if (isJournalFailure(err)) health.failed(err, clock.now());
      else log.error({ err: describeError(err), count: batch.length }, 'journal commit failed; messages left unacked');
      const fromBus = batch.filter((p) => p.delivery.envelope.source === 'bus' && !this.closing);
      for (const p of batch) if (!fromBus.includes(p)) p.reject(transientError('JOURNAL_FAILED', `not recorded: ${describeError(err)}`));
      if (fromBus.length) this.hold(fromBus);
      return;
    }
    health.succeeded(clock.now());
    this.failures = 0;
    let created = false;
    let effects = false;
    batch.forEach((p, i) => {
      const outcome = this.outcomeOf(p.record, commits[i]);
      this.count(p.record, commits[i]);
      if (outcome.status === 'accepted' && outcome.runIds.length) created = true;
      if (commits[i].status === 'recorded' && (p.record.effects.length || p.record.touch.length || p.record.gates.length || p.record.report)) effects = true;
      log.info({ messageId: p.record.envelope.id, topic: p.record.envelope.topic, status: outcome.status,
        runIds: outcome.status === 'accepted' ? outcome.runIds : undefined }, 'message recorded');
      void this.deps.ackVia?.ack(p.delivery).catch((err) =>
        log.warn({ messageId: p.record.envelope.id, err: describeError(err) }, 'ack failed; the broker will redeliver and the journal will spot the duplicate'));
      p.resolve(outcome);
    });
    if (created) this.deps.onRuns?.();
    if (effects) this.deps.onEffects?.();
  }

  /** Keeps bus messages the journal could not take, and tries them again with backoff. */
  private hold(pending: Pending[]): void {
    this.held.push(...pending);
    this.failures += 1;
    if (this.retryTimer) return;
    const delay = backoff(this.failures, Math.random, 500, 30_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      const again = this.held;
      this.held = [];
      this.batch.push(...again);
      this.flush();
    }, delay);
    this.retryTimer.unref?.();
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

