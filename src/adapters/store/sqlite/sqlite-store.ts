import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { permanentError } from '../../../errors';
import {
  type Alarm, type Change, type HumanAction, type Waiver,
  type BucketPolicy, type BucketState, type DecisionRecord, type Effect, type EventStatus, type Gate, type GateClaim,
  type GateReason, type GateSubject, type IntakeCommit, type IntakeRecord, type ItemRef, type MessageRecord,
  type NewEffect, type NewResult, type Peer, type Run, type RunState, type Settlement, type ThreadState,
  nextTokenAt, refill, take,
} from '../../../listener/domain';
import type { ActionRecord, GateSettlement, Lease, PruneReport, RetentionPolicy, RunClaim, RunTransition } from '../../../listener/ports/journal';
import type { JournalStats } from '../../../listener/ports/journal-queries';
import {
  type ActionRow, type WaiverRow, toAction, toWaiver,
  type DecisionRow, type EffectRow, type MessageRow, type ResultRow, type RunRow, patchValues, subjectsOf, threadOpened,
  toDecision, toEffect, toMessage, toResult, toRun,
} from '../journal-rows';
import { SCHEMA, SCHEMA_VERSION } from './sqlite-schema';

/** Thrown inside a transaction to roll it back: what the action asks was done already. */
class AlreadyDone extends Error {}

const RUN_COLUMNS = `r.id, r.message_id, p.plan, r.state, r.due_at, r.build_ref, r.build_result, r.outcome, r.error_reason, r.attempts,
  r.created_at, r.updated_at, r.deadline_at, r.triggered_at, r.started_at, r.finished_at, r.reported, r.superseded_by`;
const EFFECT_COLUMNS = `e.id, e.run_id, e.message_id, e.peer, e.order_key, p.payload, e.state, e.attempts, e.next_at, e.last_error,
  e.in_flight, e.created_at, e.done_at`;

/**
 * The journal on one SQLite file in WAL mode, synchronous: it runs inside the journal's worker
 * thread (ThreadedSqliteJournal), or in-process where blocking is harmless (tests, CLI reads).
 * Commits are durable (synchronous=FULL) because a message is acked right after. Write
 * transactions are IMMEDIATE, so two processes sharing the file serialise their claims.
 */
export class SqliteStore {
  readonly db: Database.Database;
  private readonly s;
  private readonly patchStatements = new Map<string, Database.Statement>();

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 10000');
    const version = this.db.pragma('user_version', { simple: true }) as number;
    const fresh = !this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages'`).get();
    if (!fresh && version !== SCHEMA_VERSION) {
      this.db.close();
      throw permanentError('JOURNAL_FAILED', `the journal ${path} has schema version ${version}, this CVP writes version ${SCHEMA_VERSION}: `
        + 'let the old version finish its runs, then move the file aside (or point journal.path elsewhere)');
    }
    if (fresh) {
      this.db.transaction(() => {
        this.db.exec(SCHEMA);
        this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }).immediate();
    }
    const db = this.db;
    this.s = {
      insertMessage: db.prepare(`INSERT INTO messages (message_id, topic, content_hash, source, status, reasons, headers, body, received_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING`),
      insertRun: db.prepare(`INSERT INTO runs (id, message_id, rule, executor, content_hash, supersede_key, state, phase, due_at, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, 'pending', 'dispatch', ?, ?, ?) ON CONFLICT DO NOTHING`),
      insertPlan: db.prepare('INSERT INTO run_plans (id, plan) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      insertSubject: db.prepare('INSERT INTO run_subjects (subject, run_id, message_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      supersede: db.prepare(`UPDATE runs SET superseded_by = @by, due_at = MIN(COALESCE(due_at, @now), @now), updated_at = @now
        WHERE rule = @rule AND supersede_key = @key AND state != 'finished' AND id != @by AND superseded_by IS NULL`),
      report: db.prepare(`UPDATE runs SET reported = ?, due_at = MIN(COALESCE(due_at, ?), ?), updated_at = ? WHERE id = ? AND state != 'finished'`),
      insertPayload: db.prepare('INSERT INTO effect_payloads (payload) VALUES (?)'),
      insertEffect: db.prepare(`INSERT INTO effects (id, run_id, message_id, peer, order_key, state, next_at, created_at)
        VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`),
      openThread: db.prepare('INSERT INTO threads (thread, channel, opener, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      insertResult: db.prepare(`INSERT INTO results (item, type, testcase, scenario, outcome, ref_url, message_id, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      touch: db.prepare(`UPDATE gates SET version = version + 1 WHERE key IN (SELECT gate_key FROM gate_items WHERE item = ? AND type = ?)`),
      insertGate: db.prepare(`INSERT INTO gates (key, product, subject, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (key) DO UPDATE SET version = version + 1`),
      insertGateItem: db.prepare(`INSERT INTO gate_items (gate_key, item, type) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`),
      runState: db.prepare('SELECT state FROM runs WHERE id = ?'),
      inFlight: db.prepare(`SELECT COUNT(*) AS n FROM runs WHERE rule = ? AND state IN ('triggering', 'queued', 'running')`),
      dueRuns: db.prepare(`SELECT seq, rule, state FROM runs WHERE executor = @executor AND phase = @phase AND due_at <= @now
        AND (lease_until IS NULL OR lease_until < @now) ORDER BY due_at, seq LIMIT @limit OFFSET @offset`),
      claimRun: db.prepare(`UPDATE runs SET owner = @owner, lease_until = @until, state = CASE WHEN state = 'pending' THEN 'triggering' ELSE state END,
        due_at = CASE WHEN state = 'pending' THEN @now ELSE due_at END WHERE seq = @seq`),
      runBySeq: db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN run_plans p ON p.id = r.id WHERE r.seq = ?`),
      releaseRun: db.prepare('UPDATE runs SET owner = NULL, lease_until = NULL WHERE id = ? AND owner = ?'),
      nextRun: db.prepare(`SELECT MIN(CASE WHEN lease_until > @now THEN lease_until ELSE due_at END) AS t FROM runs
        WHERE executor = @executor AND phase = @phase AND NOT (state = 'pending' AND rule IN (SELECT value FROM json_each(@full)))`),
      getBucket: db.prepare('SELECT tokens, at FROM buckets WHERE key = ?'),
      putBucket: db.prepare('INSERT INTO buckets (key, tokens, at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, at = excluded.at'),
      dueEffects: db.prepare(`SELECT e.id, e.in_flight FROM effects e WHERE e.state = 'pending' AND e.peer = @peer AND e.next_at <= @now
        AND (e.lease_until IS NULL OR e.lease_until < @now)
        AND NOT EXISTS (SELECT 1 FROM effects p WHERE p.order_key = e.order_key AND p.peer = e.peer AND p.state = 'pending' AND p.id < e.id)
        ORDER BY e.next_at, e.id LIMIT @limit`),
      claimEffect: db.prepare(`UPDATE effects SET attempts = attempts + 1, in_flight = 1, owner = ?, lease_until = ? WHERE id = ?`),
      effectById: db.prepare(`SELECT ${EFFECT_COLUMNS} FROM effects e JOIN effect_payloads p ON p.id = e.id WHERE e.id = ?`),
      completeEffect: db.prepare(`UPDATE effects SET state = 'done', in_flight = 0, owner = NULL, lease_until = NULL, done_at = ?, last_error = NULL
        WHERE id = ? AND owner = ?`),
      retryEffect: db.prepare(`UPDATE effects SET in_flight = 0, owner = NULL, lease_until = NULL, next_at = ?, last_error = ? WHERE id = ? AND owner = ?`),
      failEffect: db.prepare(`UPDATE effects SET state = 'failed', in_flight = 0, owner = NULL, lease_until = NULL, done_at = ?, last_error = ?
        WHERE id = ? AND owner = ?`),
      setThreadTs: db.prepare('UPDATE threads SET ts = ? WHERE thread = ? AND channel = ?'),
      nextEffect: db.prepare(`SELECT MIN(CASE WHEN lease_until > ? THEN lease_until ELSE next_at END) AS t FROM effects WHERE peer = ? AND state = 'pending'`),
      thread: db.prepare('SELECT opener, ts FROM threads WHERE thread = ? AND channel = ?'),
      dueGates: db.prepare(`SELECT key, version FROM gates WHERE version > evaluated AND (lease_until IS NULL OR lease_until < @now)
        ORDER BY updated_at LIMIT @limit`),
      claimGate: db.prepare('UPDATE gates SET owner = ?, lease_until = ? WHERE key = ?'),
      getGate: db.prepare('SELECT * FROM gates WHERE key = ?'),
      gateResults: db.prepare(`SELECT r.* FROM results r JOIN gate_items g ON g.item = r.item AND g.type = r.type WHERE g.gate_key = ? ORDER BY r.seq`),
      settleGate: db.prepare(`UPDATE gates SET evaluated = @version, owner = NULL, lease_until = NULL, updated_at = @now,
        decision = COALESCE(@decision, decision), reasons = COALESCE(@reasons, reasons), released = MAX(released, @released)
        WHERE key = @key AND owner = @owner`),
      insertDecision: db.prepare(`INSERT INTO decisions (gate_key, product, decision, mode, action, reasons, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      nextGate: db.prepare(`SELECT MIN(COALESCE(lease_until, 0)) AS t FROM gates WHERE version > evaluated`),
      owners: db.prepare(`SELECT owner FROM runs WHERE owner IS NOT NULL UNION SELECT owner FROM effects WHERE owner IS NOT NULL
        UNION SELECT owner FROM gates WHERE owner IS NOT NULL`),
      probe: db.prepare('INSERT INTO probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at'),
      getMessage: db.prepare('SELECT * FROM messages WHERE message_id = ?'),
      runsOfMessage: db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN run_plans p ON p.id = r.id WHERE r.message_id = ? ORDER BY r.seq`),
      effectsOfMessage: db.prepare(`SELECT ${EFFECT_COLUMNS} FROM effects e JOIN effect_payloads p ON p.id = e.id
        WHERE e.message_id = ? OR e.run_id IN (SELECT id FROM runs WHERE message_id = ?) ORDER BY e.id`),
      messagesAbout: db.prepare(`SELECT message_id FROM run_subjects WHERE subject = ? GROUP BY message_id ORDER BY MAX(created_at) DESC LIMIT ?`),
      rejected: db.prepare(`SELECT * FROM messages WHERE status = 'rejected' AND received_at >= ? ORDER BY received_at, pk LIMIT ?`),
      decisions: db.prepare(`SELECT * FROM decisions WHERE (@product IS NULL OR product = @product) ORDER BY id DESC LIMIT @limit`),
      runsByState: db.prepare('SELECT state, COUNT(*) AS n FROM runs GROUP BY state'),
      effectsPending: db.prepare(`SELECT peer, COUNT(*) AS n FROM effects WHERE state = 'pending' GROUP BY peer`),
      oldestRun: db.prepare(`SELECT MIN(created_at) AS t FROM runs WHERE state != 'finished'`),
      backlog: db.prepare(`SELECT COUNT(*) AS n FROM runs WHERE state IN ('pending', 'triggering')`),
      gateWaivers: db.prepare(`SELECT w.* FROM waivers w JOIN gate_items g ON g.item = w.item AND g.type = w.type
        WHERE g.gate_key = ? AND w.revoked_at IS NULL ORDER BY w.created_at`),
      runById: db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN run_plans p ON p.id = r.id WHERE r.id = ?`),
      insertAction: db.prepare(`INSERT INTO actions (id, kind, product, gate_key, run_id, waiver_id, reason, who, via, at)
        VALUES (@id, @kind, @product, @gateKey, @runId, @waiverId, @reason, @who, @via, @at) ON CONFLICT (id) DO NOTHING`),
      insertWaiver: db.prepare(`INSERT INTO waivers (id, product, item, type, testcase, scenario, reason, who, created_at)
        VALUES (@id, @product, @item, @type, @testcase, @scenario, @reason, @who, @createdAt) ON CONFLICT (id) DO NOTHING`),
      revokeWaiver: db.prepare('UPDATE waivers SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL'),
      waiverById: db.prepare('SELECT * FROM waivers WHERE id = ?'),
      releaseGate: db.prepare('UPDATE gates SET released = 1, updated_at = ? WHERE key = ? AND released = 0'),
      lastReceived: db.prepare('SELECT MAX(received_at) AS t FROM messages WHERE topic = ?'),
      oldestUnfinished: db.prepare(`SELECT rule, id AS runId, MIN(created_at) AS createdAt FROM runs WHERE state != 'finished' GROUP BY rule`),
      getAlarm: db.prepare('SELECT * FROM alarms WHERE key = ?'),
      putAlarm: db.prepare(`INSERT INTO alarms (key, raised, since, detail) VALUES (?, ?, ?, ?)
        ON CONFLICT (key) DO UPDATE SET raised = excluded.raised, since = excluded.since, detail = excluded.detail`),
      allAlarms: db.prepare('SELECT * FROM alarms ORDER BY key'),
      actions: db.prepare(`SELECT * FROM actions WHERE (@product IS NULL OR product = @product) ORDER BY at DESC, id LIMIT @limit`),
      waivers: db.prepare(`SELECT * FROM waivers WHERE (@product IS NULL OR product = @product) AND (@all = 1 OR revoked_at IS NULL)
        ORDER BY created_at DESC LIMIT @limit`),
      recentMessages: db.prepare(`SELECT * FROM messages WHERE (@status IS NULL OR status = @status) ORDER BY received_at DESC, pk DESC LIMIT @limit`),
    };
  }

  /** One IMMEDIATE transaction (a savepoint when nested in the worker's group commit). */
  private tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  commitIntake(records: IntakeRecord[]): IntakeCommit[] {
    return this.tx(() => records.map((r) => this.commitOne(r)));
  }

  private commitOne(r: IntakeRecord): IntakeCommit {
    const { envelope: env } = r;
    const reasons = r.verdict.kind === 'rejected' ? r.verdict.reasons : [];
    const inserted = this.s.insertMessage.run(env.id, env.topic, r.contentHash, env.source, r.verdict.kind, JSON.stringify(reasons),
      JSON.stringify(env.headers), env.body, r.receivedAt);
    if (inserted.changes === 0) return { status: 'duplicate', runIds: [], duplicateRuns: 0 };
    const now = r.receivedAt;
    const runIds: string[] = [];
    let duplicateRuns = 0;
    if (r.verdict.kind === 'routed') {
      for (const plan of r.verdict.runs) {
        const res = this.s.insertRun.run(plan.id, env.id, plan.rule, plan.executor, r.contentHash, plan.supersedeKey ?? null, now, now, now);
        if (res.changes === 0) { duplicateRuns += 1; continue; }
        runIds.push(plan.id);
        this.s.insertPlan.run(plan.id, JSON.stringify(plan));
        for (const subject of subjectsOf(plan)) this.s.insertSubject.run(subject, plan.id, env.id, now);
        if (plan.supersedeKey) this.s.supersede.run({ by: plan.id, now, rule: plan.rule, key: plan.supersedeKey });
      }
    }
    for (const g of r.gates) {
      this.s.insertGate.run(g.key, g.product, JSON.stringify(g), now);
      for (const i of g.items) this.s.insertGateItem.run(g.key, i.item, i.type);
    }
    if (r.report) this.s.report.run(JSON.stringify(r.report.report), now, now, now, r.report.runId);
    this.record(r.effects, r.results, r.touch, env.id, now);
    return { status: 'recorded', runIds, duplicateRuns };
  }

  /** Effects, results and touched gates of one change. */
  private record(effects: NewEffect[], results: NewResult[], touch: ItemRef[], messageId: string | null, now: number): void {
    for (const e of effects) {
      const id = Number(this.s.insertPayload.run(JSON.stringify(e.payload)).lastInsertRowid);
      // A notice belongs to its event's thread (the message id): the event's status lists it.
      const owner = e.runId ? null : messageId ?? (e.payload.kind === 'notice' ? e.payload.thread : null);
      this.s.insertEffect.run(id, e.runId, owner, e.peer, e.orderKey, now, now);
      const opens = threadOpened(e.payload);
      if (opens) this.s.openThread.run(opens.thread, opens.channel, id, now);
    }
    for (const r of results) this.s.insertResult.run(r.item, r.type, r.testcase, r.scenario, r.outcome, r.refUrl, r.messageId, now);
    const seen = new Set<string>();
    for (const i of touch) {
      const k = `${i.item}\u0000${i.type}`;
      if (seen.has(k)) continue;
      seen.add(k);
      this.s.touch.run(i.item, i.type);
    }
  }

  runState(runId: string): RunState | null {
    return (this.s.runState.get(runId) as { state: RunState } | undefined)?.state ?? null;
  }

  private bucket(key: string, policy: BucketPolicy, now: number): BucketState {
    const row = this.s.getBucket.get(key) as BucketState | undefined;
    return refill(row ?? null, policy, now);
  }

  claimRuns(c: RunClaim): Run[] {
    return this.tx(() => {
      let limit = c.limit;
      let bucket: BucketState | undefined;
      if (c.budget) {
        bucket = this.bucket(c.budget.key, c.budget.policy, c.now);
        limit = Math.min(limit, Math.floor(bucket.tokens));
      }
      if (limit <= 0) return [];
      const slots = new Map<string, number>();
      for (const [rule, max] of Object.entries(c.maxInFlight ?? {})) slots.set(rule, max - (this.s.inFlight.get(rule) as { n: number }).n);
      const picked: Array<{ seq: number; state: RunState }> = [];
      const page = Math.max(limit * 2, 64);
      for (let offset = 0; picked.length < limit; offset += page) {
        const rows = this.s.dueRuns.all({ executor: c.executor, phase: c.phase, now: c.now, limit: page, offset }) as Array<{ seq: number; rule: string; state: RunState }>;
        for (const row of rows) {
          if (picked.length >= limit) break;
          if (row.state === 'pending' && slots.has(row.rule)) {
            const left = slots.get(row.rule)!;
            if (left <= 0) continue;
            slots.set(row.rule, left - 1);
          }
          picked.push({ seq: row.seq, state: row.state });
        }
        if (rows.length < page) break;
      }
      const runs: Run[] = [];
      for (const p of picked) {
        this.s.claimRun.run({ owner: c.owner, until: c.now + c.leaseMs, now: c.now, seq: p.seq });
        runs.push(toRun(this.s.runBySeq.get(p.seq) as RunRow, p.state));
      }
      if (c.budget && bucket) {
        const after = take(bucket, runs.length).state;
        this.s.putBucket.run(c.budget.key, after.tokens, after.at);
      }
      return runs;
    });
  }

  settleRuns(owner: string, transitions: RunTransition[], now: number): boolean[] {
    return this.tx(() => transitions.map((t) => {
      const values = patchValues(t.patch);
      const sets = ['updated_at = ?', 'owner = NULL', 'lease_until = NULL', ...values.map(([column]) => `${column} = ?`)];
      const sql = `UPDATE runs SET ${sets.join(', ')} WHERE id = ? AND state = ? AND owner = ?`;
      // A handful of column sets recur; preparing each once keeps SQL compilation off the hot path.
      let stmt = this.patchStatements.get(sql);
      if (!stmt) { stmt = this.db.prepare(sql); this.patchStatements.set(sql, stmt); }
      const applied = stmt.run(now, ...values.map(([, v]) => v), t.runId, t.expect, owner).changes === 1;
      if (applied) this.record(t.effects, t.results, t.touch, null, now);
      return applied;
    }));
  }

  releaseRuns(owner: string, runIds: string[]): void {
    this.tx(() => { for (const id of runIds) this.s.releaseRun.run(id, owner); });
  }

  nextRunDue(phase: 'dispatch' | 'track', executor: string, now: number, budget?: { key: string; policy: BucketPolicy }, maxInFlight?: Record<string, number>): number | null {
    const full = phase === 'dispatch'
      ? Object.entries(maxInFlight ?? {}).filter(([rule, max]) => (this.s.inFlight.get(rule) as { n: number }).n >= max).map(([rule]) => rule) : [];
    const due = (this.s.nextRun.get({ now, executor, phase, full: JSON.stringify(full) }) as { t: number | null }).t;
    if (due === null || !budget) return due;
    const row = this.s.getBucket.get(budget.key) as BucketState | undefined;
    return Math.max(due, nextTokenAt(row ?? null, budget.policy, now, budget.policy.burst));
  }

  claimEffects(peer: Peer, lease: Lease, limit: number): Effect[] {
    return this.tx(() => {
      const rows = this.s.dueEffects.all({ peer, now: lease.now, limit }) as Array<{ id: number; in_flight: number }>;
      return rows.map((row) => {
        this.s.claimEffect.run(lease.owner, lease.now + lease.leaseMs, row.id);
        const effect = toEffect(this.s.effectById.get(row.id) as EffectRow);
        const p = effect.payload;
        // A notice's thread, read now: its opener (an earlier effect of the same order key) is settled.
        const thread = p.kind === 'notice' ? this.thread(p.thread, p.notice.channel ?? '') : undefined;
        return { ...effect, interrupted: row.in_flight === 1, ...(thread !== undefined ? { thread } : {}) };
      });
    });
  }

  settleEffects(owner: string, settlements: Settlement[], now: number): void {
    if (!settlements.length) return;
    this.tx(() => {
      for (const s of settlements) {
        if (s.state === 'done') {
          const done = this.s.completeEffect.run(now, s.id, owner).changes === 1;
          if (done && s.thread) this.s.setThreadTs.run(s.thread.ts, s.thread.thread, s.thread.channel);
        } else if (s.state === 'retry') this.s.retryEffect.run(s.nextAt, s.error, s.id, owner);
        else this.s.failEffect.run(now, s.error, s.id, owner);
      }
    });
  }

  nextEffectDue(peer: Peer, now: number): number | null {
    return (this.s.nextEffect.get(now, peer) as { t: number | null }).t;
  }

  thread(thread: string, channel: string): ThreadState | null {
    const row = this.s.thread.get(thread, channel) as { opener: number | null; ts: string | null } | undefined;
    return row ? { opener: row.opener, ts: row.ts } : null;
  }

  gate(key: string): Gate | null {
    const row = this.s.getGate.get(key) as { subject: string; decision: string | null; reasons: string; released: number; updated_at: number } | undefined;
    if (!row) return null;
    return {
      ...(JSON.parse(row.subject) as GateSubject),
      decision: row.decision as Gate['decision'],
      reasons: JSON.parse(row.reasons) as GateReason[],
      released: row.released === 1,
      updatedAt: row.updated_at,
    };
  }

  claimGates(lease: Lease, limit: number): GateClaim[] {
    return this.tx(() => {
      const rows = this.s.dueGates.all({ now: lease.now, limit }) as Array<{ key: string; version: number }>;
      return rows.map((row) => {
        this.s.claimGate.run(lease.owner, lease.now + lease.leaseMs, row.key);
        return {
          gate: this.gate(row.key)!,
          version: row.version,
          results: (this.s.gateResults.all(row.key) as ResultRow[]).map(toResult),
          waivers: (this.s.gateWaivers.all(row.key) as WaiverRow[]).map(toWaiver),
        };
      });
    });
  }

  settleGates(owner: string, settlements: GateSettlement[], now: number): boolean[] {
    return this.tx(() => settlements.map((s) => {
      const d = s.decision;
      const applied = this.s.settleGate.run({
        key: s.key, owner, version: s.version, now,
        decision: d?.decision ?? null, reasons: d ? JSON.stringify(d.reasons) : null, released: s.released ? 1 : 0,
      }).changes === 1;
      if (!applied) return false;
      if (d) {
        const product = (this.s.getGate.get(s.key) as { product: string }).product;
        this.s.insertDecision.run(s.key, product, d.decision, d.mode, d.action, JSON.stringify(d.reasons), d.createdAt);
      }
      this.record(s.effects, [], [], null, now);
      return true;
    }));
  }

  nextGateDue(now: number): number | null {
    const t = (this.s.nextGate.get() as { t: number | null }).t;
    return t === null ? null : Math.max(now, t);
  }

  run(runId: string): Run | null {
    const row = this.s.runById.get(runId) as RunRow | undefined;
    return row ? toRun(row) : null;
  }

  waiver(id: string): Waiver | null {
    const row = this.s.waiverById.get(id) as WaiverRow | undefined;
    return row ? toWaiver(row) : null;
  }

  recordAction(r: ActionRecord): 'recorded' | 'duplicate' {
    try {
      return this.recordActionTx(r);
    } catch (err) {
      if (err instanceof AlreadyDone) return 'duplicate';
      throw err;
    }
  }

  private recordActionTx(r: ActionRecord): 'recorded' | 'duplicate' {
    return this.tx(() => {
      const a = r.action;
      const inserted = this.s.insertAction.run({
        id: a.id, kind: a.kind, product: a.product, gateKey: a.gateKey ?? null, runId: a.runId ?? null,
        waiverId: a.waiverId ?? r.waiver?.id ?? null, reason: a.reason ?? null, who: a.who, via: a.via, at: a.at,
      }).changes === 1;
      if (!inserted) return 'duplicate';
      if (r.releaseGate && this.s.releaseGate.run(a.at, r.releaseGate).changes === 0) {
        // Released already (by the knob or another person): the action changes nothing.
        throw new AlreadyDone();
      }
      if (r.waiver) this.s.insertWaiver.run({ ...r.waiver });
      if (r.revoke) this.s.revokeWaiver.run(r.revoke.at, r.revoke.by, r.revoke.waiverId);
      if (r.rerun) {
        const plan = r.rerun;
        const { messageId, ...rest } = plan;
        this.s.insertRun.run(plan.id, messageId, plan.rule, plan.executor, `rerun:${a.id}`, plan.supersedeKey ?? null, a.at, a.at, a.at);
        this.s.insertPlan.run(plan.id, JSON.stringify(rest));
        for (const subject of subjectsOf(rest)) this.s.insertSubject.run(subject, plan.id, messageId, a.at);
      }
      this.record(r.change.effects, r.change.results, r.change.touch, null, a.at);
      return 'recorded';
    });
  }

  lastReceived(topics: string[]): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    for (const topic of topics) out[topic] = (this.s.lastReceived.get(topic) as { t: number | null }).t;
    return out;
  }

  oldestUnfinished(): Array<{ rule: string; runId: string; createdAt: number }> {
    return this.s.oldestUnfinished.all() as Array<{ rule: string; runId: string; createdAt: number }>;
  }

  setAlarm(alarm: Alarm, change: Change): boolean {
    return this.tx(() => {
      const row = this.s.getAlarm.get(alarm.key) as { raised: number } | undefined;
      const raisedNow = row ? row.raised === 1 : false;
      if (raisedNow === alarm.raised) return false;
      this.s.putAlarm.run(alarm.key, alarm.raised ? 1 : 0, alarm.since, alarm.detail);
      this.record(change.effects, change.results, change.touch, null, alarm.since);
      return true;
    });
  }

  alarms(): Alarm[] {
    return (this.s.allAlarms.all() as Array<{ key: string; raised: number; since: number; detail: string }>)
      .map((r) => ({ key: r.key, raised: r.raised === 1, since: r.since, detail: r.detail }));
  }

  actions(product: string | undefined, limit: number): HumanAction[] {
    return (this.s.actions.all({ product: product ?? null, limit }) as ActionRow[]).map(toAction);
  }

  waivers(product: string | undefined, withRevoked: boolean, limit: number): Waiver[] {
    return (this.s.waivers.all({ product: product ?? null, all: withRevoked ? 1 : 0, limit }) as WaiverRow[]).map(toWaiver);
  }

  recentMessages(limit: number, status?: MessageRecord['status']): MessageRecord[] {
    return (this.s.recentMessages.all({ limit, status: status ?? null }) as MessageRow[]).map(toMessage);
  }

  claimOwners(): string[] {
    return (this.s.owners.all() as Array<{ owner: string }>).map((r) => r.owner);
  }

  releaseClaims(owners: string[]): number {
    if (!owners.length) return 0;
    return this.tx(() => {
      const list = JSON.stringify(owners);
      let n = 0;
      for (const table of ['runs', 'effects', 'gates']) {
        n += this.db.prepare(`UPDATE ${table} SET owner = NULL, lease_until = NULL WHERE owner IN (SELECT value FROM json_each(?))`).run(list).changes;
      }
      return n;
    });
  }

  probe(now: number): void {
    this.tx(() => { this.s.probe.run(now); });
  }

  prune(policy: RetentionPolicy, now: number): PruneReport {
    const cutoff = now - policy.maxAgeMs;
    const n = policy.batch;
    return this.tx(() => {
      const del = (sql: string, ...args: unknown[]) => this.db.prepare(sql).run(...args).changes;
      const effects = del(`DELETE FROM effects WHERE id IN (SELECT id FROM effects WHERE state != 'pending' AND done_at < ? LIMIT ?)`, cutoff, n);
      del(`DELETE FROM effect_payloads WHERE id NOT IN (SELECT id FROM effects) AND id IN (SELECT id FROM effect_payloads ORDER BY id LIMIT ?)`, n * 4);
      const oldRuns = this.db.prepare(`SELECT id FROM runs r WHERE state = 'finished' AND finished_at < ?
        AND NOT EXISTS (SELECT 1 FROM effects e WHERE e.run_id = r.id AND e.state = 'pending') LIMIT ?`).all(cutoff, n) as Array<{ id: string }>;
      const ids = JSON.stringify(oldRuns.map((r) => r.id));
      del('DELETE FROM run_plans WHERE id IN (SELECT value FROM json_each(?))', ids);
      del('DELETE FROM run_subjects WHERE run_id IN (SELECT value FROM json_each(?))', ids);
      const runs = del('DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?))', ids);
      const messages = del(`DELETE FROM messages WHERE pk IN (SELECT pk FROM messages m WHERE received_at < ?
        AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.message_id = m.message_id)
        AND NOT EXISTS (SELECT 1 FROM effects e WHERE e.message_id = m.message_id AND e.state = 'pending') LIMIT ?)`, cutoff, n);
      const results = del('DELETE FROM results WHERE seq IN (SELECT seq FROM results WHERE created_at < ? LIMIT ?)', cutoff, n);
      const oldGates = this.db.prepare(`SELECT key FROM gates WHERE updated_at < ? AND version <= evaluated LIMIT ?`).all(cutoff, n) as Array<{ key: string }>;
      const keys = JSON.stringify(oldGates.map((g) => g.key));
      del('DELETE FROM gate_items WHERE gate_key IN (SELECT value FROM json_each(?))', keys);
      del('DELETE FROM decisions WHERE gate_key IN (SELECT value FROM json_each(?))', keys);
      const gates = del('DELETE FROM gates WHERE key IN (SELECT value FROM json_each(?))', keys);
      del('DELETE FROM actions WHERE id IN (SELECT id FROM actions WHERE at < ? LIMIT ?)', cutoff, n);
      del('DELETE FROM waivers WHERE id IN (SELECT id FROM waivers WHERE revoked_at < ? LIMIT ?)', cutoff, n);
      del(`DELETE FROM threads WHERE (thread, channel) IN (SELECT thread, channel FROM threads WHERE created_at < ? LIMIT ?)`, cutoff, n);
      return { messages, runs, effects, results, gates };
    });
  }

  eventStatus(messageId: string): EventStatus | null {
    const m = this.s.getMessage.get(messageId) as MessageRow | undefined;
    if (!m) return null;
    return {
      message: toMessage(m),
      runs: (this.s.runsOfMessage.all(messageId) as RunRow[]).map((r) => toRun(r)),
      effects: (this.s.effectsOfMessage.all(messageId, messageId) as EffectRow[]).map(toEffect),
    };
  }

  messagesAbout(artifact: string, limit: number): string[] {
    return (this.s.messagesAbout.all(artifact, limit) as Array<{ message_id: string }>).map((r) => r.message_id);
  }

  rejectedMessages(since: number, limit: number): MessageRecord[] {
    return (this.s.rejected.all(since, limit) as MessageRow[]).map(toMessage);
  }

  decisions(product: string | undefined, limit: number): DecisionRecord[] {
    return (this.s.decisions.all({ product: product ?? null, limit }) as DecisionRow[]).map(toDecision);
  }

  stats(now: number): JournalStats {
    const runsByState: Record<string, number> = {};
    for (const r of this.s.runsByState.all() as Array<{ state: string; n: number }>) runsByState[r.state] = r.n;
    const effectsPending: Record<string, number> = {};
    for (const r of this.s.effectsPending.all() as Array<{ peer: string; n: number }>) effectsPending[r.peer] = r.n;
    const oldest = (this.s.oldestRun.get() as { t: number | null }).t;
    return {
      runsByState, effectsPending,
      oldestUnfinishedRunAgeSeconds: oldest === null ? 0 : Math.max(0, (now - oldest) / 1000),
      backlog: (this.s.backlog.get() as { n: number }).n,
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

