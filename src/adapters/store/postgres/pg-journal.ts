import type { Pool } from 'pg';
import {
  type Alarm, type Change, type HumanAction, type Waiver,
  type BucketPolicy, type BucketState, type DecisionRecord, type Effect, type EventStatus, type Gate, type GateClaim,
  type GateReason, type GateSubject, type IntakeCommit, type IntakeRecord, type ItemRef, type MessageRecord,
  type NewEffect, type NewResult, type Peer, type Run, type RunState, type Settlement, type ThreadState,
  nextTokenAt, refill, take,
} from '../../../listener/domain';
import type { ActionRecord, GateSettlement, Journal, Lease, PruneReport, RetentionPolicy, RunClaim, RunTransition } from '../../../listener/ports/journal';
import type { JournalQueries, JournalStats } from '../../../listener/ports/journal-queries';
import {
  type EffectRow, type ResultRow, type RunRow, type WaiverRow, patchValues, subjectsOf, threadOpened, toEffect, toResult, toRun, toWaiver,
} from '../journal-rows';
import { PgDatabase, type PgJournalOptions, type Tx } from './pg-database';
import { EFFECT_COLUMNS, PgJournalQueries, RUN_COLUMNS } from './pg-journal-queries';
import { PgNotifications, type ChangeKind } from './pg-notifications';

export type { PgJournalOptions };

const IN_FLIGHT = `('triggering', 'queued', 'running')`;

const num = (v: string | number | null): number | null => (v === null ? null : Number(v));

/**
 * The journal in PostgreSQL, shared by several daemons. Claims lock rows with FOR UPDATE SKIP
 * LOCKED and take a lease (owner + lease_until), so two daemons never hold one run, effect or gate
 * and a dead daemon's claims are taken over when their leases end. Inserts use ON CONFLICT, so a
 * message seen by two daemons is recorded once. A rule's in-flight limit is counted under an
 * advisory lock per rule, and a shared rate under a row lock on its bucket. Effects of one order
 * key get their ids under an advisory lock on that key, so their ids follow commit order (what the
 * "deliver in order" claim reads). Work committed for others is announced with NOTIFY.
 */
export class PgJournal implements Journal, JournalQueries {
  readonly where: string;
  private readonly notifications: PgNotifications;
  private readonly queries = new PgJournalQueries((sql, params) => this.db.read(sql, params));

  private constructor(private readonly db: PgDatabase, onListenTrouble?: (err: Error) => void) {
    this.where = db.where;
    this.notifications = new PgNotifications({ ...db.config, keepAlive: true }, onListenTrouble);
  }

  /** Connects, migrates the schema (refusing a newer one) and returns the journal. */
  static async open(opts: PgJournalOptions): Promise<PgJournal> {
    return new PgJournal(await PgDatabase.open(opts), opts.onListenTrouble);
  }

  /** The pool, for `cvp journal migrate`'s bulk copy. */
  get pool(): Pool {
    return this.db.pool;
  }

  private lockOrderKeys(t: Tx, effects: NewEffect[]): Promise<void> {
    return this.db.lock(t, effects.map((e) => `cvp:order:${e.peer}|${e.orderKey}`));
  }

  async commitIntake(records: IntakeRecord[]): Promise<IntakeCommit[]> {
    if (!records.length) return [];
    return this.db.tx(async (t) => {
      await this.lockOrderKeys(t, records.flatMap((r) => r.effects));
      const inserted = await t.c.query<{ message_id: string }>(`INSERT INTO messages
        (message_id, topic, content_hash, source, status, reasons, headers, body, received_at)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[])
        ON CONFLICT (message_id) DO NOTHING RETURNING message_id`, [
        records.map((r) => r.envelope.id), records.map((r) => r.envelope.topic), records.map((r) => r.contentHash),
        records.map((r) => r.envelope.source), records.map((r) => r.verdict.kind),
        records.map((r) => JSON.stringify(r.verdict.kind === 'rejected' ? r.verdict.reasons : [])),
        records.map((r) => JSON.stringify(r.envelope.headers)), records.map((r) => r.envelope.body), records.map((r) => r.receivedAt),
      ]);
      // A message id twice in one batch: the first is recorded, the second is its duplicate.
      const fresh = new Set(inserted.rows.map((r) => r.message_id));
      const effects: Array<NewEffect & { messageId: string | null }> = [];
      const results: NewResult[] = [];
      const touch: ItemRef[] = [];
      const gates = new Map<string, GateSubject>();
      const out: IntakeCommit[] = [];
      for (const r of records) {
        const id = r.envelope.id;
        if (!fresh.delete(id)) { out.push({ status: 'duplicate', runIds: [], duplicateRuns: 0 }); continue; }
        const now = r.receivedAt;
        const runIds: string[] = [];
        let duplicateRuns = 0;
        if (r.verdict.kind === 'routed') {
          for (const plan of r.verdict.runs) {
            const made = await t.c.query(`WITH r AS (
                INSERT INTO runs (id, message_id, rule, executor, content_hash, supersede_key, state, phase, due_at, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, 'pending', 'dispatch', $7, $7, $7) ON CONFLICT DO NOTHING RETURNING id),
              p AS (INSERT INTO run_plans (id, plan) SELECT id, $8 FROM r ON CONFLICT DO NOTHING),
              s AS (INSERT INTO run_subjects (subject, run_id, message_id, created_at) SELECT x, r.id, $2, $7 FROM r, unnest($9::text[]) AS x
                ON CONFLICT DO NOTHING)
              SELECT id FROM r`,
            [plan.id, id, plan.rule, plan.executor, r.contentHash, plan.supersedeKey ?? null, now, JSON.stringify(plan), subjectsOf(plan)]);
            if (!made.rowCount) { duplicateRuns += 1; continue; }
            runIds.push(plan.id);
            if (plan.supersedeKey) {
              await t.c.query(`UPDATE runs SET superseded_by = $1, due_at = LEAST(COALESCE(due_at, $2), $2), updated_at = $2
                WHERE rule = $3 AND supersede_key = $4 AND state <> 'finished' AND id <> $1 AND superseded_by IS NULL`,
              [plan.id, now, plan.rule, plan.supersedeKey]);
            }
          }
          if (runIds.length) t.changed.add('runs');
        }
        for (const g of r.gates) if (!gates.has(g.key)) gates.set(g.key, g);
        if (r.report) {
          const reported = await t.c.query(`UPDATE runs SET reported = $1, due_at = LEAST(COALESCE(due_at, $2), $2), updated_at = $2
            WHERE id = $3 AND state <> 'finished'`, [JSON.stringify(r.report.report), now, r.report.runId]);
          if (reported.rowCount) t.changed.add('runs');
        }
        effects.push(...r.effects.map((e) => ({ ...e, messageId: e.runId ? null : id })));
        results.push(...r.results);
        touch.push(...r.touch);
        out.push({ status: 'recorded', runIds, duplicateRuns });
      }
      if (gates.size) {
        const list = [...gates.values()];
        const now = records[0].receivedAt;
        await t.c.query(`INSERT INTO gates (key, product, subject, updated_at) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
          ON CONFLICT (key) DO UPDATE SET version = gates.version + 1`,
        [list.map((g) => g.key), list.map((g) => g.product), list.map((g) => JSON.stringify(g)), list.map(() => now)]);
        const items = list.flatMap((g) => g.items.map((i) => [g.key, i.item, i.type]));
        const seen = new Set<string>();
        const unique = items.filter((i) => { const k = i.join('\u0000'); if (seen.has(k)) return false; seen.add(k); return true; });
        await t.c.query(`INSERT INTO gate_items (gate_key, item, type) SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`,
          [unique.map((i) => i[0]), unique.map((i) => i[1]), unique.map((i) => i[2])]);
        t.changed.add('gates');
      }
      await this.record(t, effects, results, touch, records[0].receivedAt);
      return out;
    });
  }

  /** Effects (ids in order, payloads apart, thread openers), results and touched gates of one commit. */
  private async record(t: Tx, effects: Array<NewEffect & { messageId: string | null }>, results: NewResult[], touch: ItemRef[], now: number): Promise<void> {
    if (effects.length) {
      const ids = await t.c.query<{ id: string; n: string }>(`WITH v AS MATERIALIZED (
          SELECT nextval('effects_id_seq') AS id, u.* FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
            WITH ORDINALITY AS u(run_id, message_id, peer, order_key, payload, n)),
        e AS (INSERT INTO effects (id, run_id, message_id, peer, order_key, state, next_at, created_at)
          SELECT id, run_id, message_id, peer, order_key, 'pending', $6, $6 FROM v),
        p AS (INSERT INTO effect_payloads (id, payload) SELECT id, payload FROM v)
        SELECT id, n FROM v ORDER BY n`, [
        effects.map((e) => e.runId), effects.map((e) => e.messageId), effects.map((e) => e.peer), effects.map((e) => e.orderKey),
        effects.map((e) => JSON.stringify(e.payload)), now,
      ]);
      const openers = new Map<string, [string, string, string]>();
      effects.forEach((e, i) => {
        const opens = threadOpened(e.payload);
        const key = opens ? `${opens.thread}\u0000${opens.channel}` : '';
        if (opens && !openers.has(key)) openers.set(key, [opens.thread, opens.channel, ids.rows[i].id]);
      });
      if (openers.size) {
        const list = [...openers.values()];
        await t.c.query(`INSERT INTO threads (thread, channel, opener, created_at)
          SELECT u.thread, u.channel, u.opener, $4 FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(thread, channel, opener) ON CONFLICT DO NOTHING`,
        [list.map((o) => o[0]), list.map((o) => o[1]), list.map((o) => o[2]), now]);
      }
      t.changed.add('effects');
    }
    if (results.length) {
      await t.c.query(`INSERT INTO results (item, type, testcase, scenario, outcome, ref_url, message_id, created_at)
        SELECT u.item, u.type, u.testcase, u.scenario, u.outcome, u.ref_url, u.message_id, $8
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
          WITH ORDINALITY AS u(item, type, testcase, scenario, outcome, ref_url, message_id, n) ORDER BY u.n`, [
        results.map((r) => r.item), results.map((r) => r.type), results.map((r) => r.testcase), results.map((r) => r.scenario),
        results.map((r) => r.outcome), results.map((r) => r.refUrl), results.map((r) => r.messageId), now,
      ]);
    }
    if (touch.length) {
      const touched = await t.c.query(`UPDATE gates SET version = version + 1 WHERE key IN (
          SELECT gi.gate_key FROM gate_items gi JOIN unnest($1::text[], $2::text[]) AS u(item, type) ON gi.item = u.item AND gi.type = u.type)`,
      [touch.map((i) => i.item), touch.map((i) => i.type)]);
      if (touched.rowCount) t.changed.add('gates');
    }
  }

  async runState(runId: string): Promise<RunState | null> {
    const rows = await this.db.read<{ state: RunState }>('SELECT state FROM runs WHERE id = $1', [runId]);
    return rows[0]?.state ?? null;
  }

  async claimRuns(c: RunClaim): Promise<Run[]> {
    return this.db.tx(async (t) => {
      const limited = c.phase === 'dispatch' ? Object.entries(c.maxInFlight ?? {}) : [];
      // Every claim that could start a build of a limited rule counts its builds under this lock.
      await this.db.lock(t, limited.map(([rule]) => `cvp:rule:${rule}`));
      let limit = c.limit;
      let bucket: BucketState | undefined;
      if (c.budget) {
        await t.c.query('INSERT INTO buckets (key, tokens, at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING',
          [c.budget.key, c.budget.policy.burst, c.now]);
        const row = (await t.c.query<{ tokens: number; at: string }>('SELECT tokens, at FROM buckets WHERE key = $1 FOR UPDATE', [c.budget.key])).rows[0];
        bucket = refill({ tokens: row.tokens, at: Number(row.at) }, c.budget.policy, c.now);
        limit = Math.min(limit, Math.floor(bucket.tokens));
      }
      if (limit <= 0) return [];
      const slots = new Map<string, number>(limited);
      if (limited.length) {
        const counts = await t.c.query<{ rule: string; n: number }>(`SELECT rule, COUNT(*)::int AS n FROM runs
          WHERE rule = ANY($1::text[]) AND state IN ${IN_FLIGHT} GROUP BY rule`, [limited.map(([rule]) => rule)]);
        for (const row of counts.rows) slots.set(row.rule, slots.get(row.rule)! - row.n);
      }
      const picked: Array<{ seq: string; state: RunState }> = [];
      const lockedAndLeft: string[] = [];
      let after: [number, string] = [-1, '0'];
      // Page by page, locking no more rows than are still wanted: another daemon's claim skips the
      // locked ones, so locking more would hide runs from it that this claim does not take.
      while (picked.length < limit) {
        const full = [...slots].filter(([, left]) => left <= 0).map(([rule]) => rule);
        const want = limit - picked.length;
        const rows = (await t.c.query<{ seq: string; rule: string; state: RunState; due_at: string }>(`SELECT seq, rule, state, due_at FROM runs
          WHERE executor = $1 AND phase = $2 AND due_at <= $3 AND (lease_until IS NULL OR lease_until < $3)
            AND NOT (state = 'pending' AND rule = ANY($4::text[])) AND (due_at, seq) > ($5, $6)
          ORDER BY due_at, seq LIMIT $7 FOR UPDATE SKIP LOCKED`, [c.executor, c.phase, c.now, full, after[0], after[1], want])).rows;
        for (const row of rows) {
          after = [Number(row.due_at), row.seq];
          if (row.state === 'pending' && slots.has(row.rule)) {
            const left = slots.get(row.rule)!;
            if (left <= 0) { lockedAndLeft.push(row.seq); continue; }
            slots.set(row.rule, left - 1);
          }
          picked.push({ seq: row.seq, state: row.state });
        }
        if (rows.length < want) break;
      }
      if (!picked.length) return [];
      const claimed = await t.c.query<RunRow & { seq: string }>(`WITH c AS (
          UPDATE runs SET owner = $1, lease_until = $2, state = CASE WHEN state = 'pending' THEN 'triggering' ELSE state END,
            due_at = CASE WHEN state = 'pending' THEN $3 ELSE due_at END
          WHERE seq = ANY($4::bigint[]) RETURNING *)
        SELECT r.seq, ${RUN_COLUMNS} FROM c r JOIN run_plans p ON p.id = r.id`,
      [c.owner, c.now + c.leaseMs, c.now, picked.map((p) => p.seq)]);
      const bySeq = new Map(claimed.rows.map((row) => [String(row.seq), row]));
      const runs = picked.map((p) => toRun(bySeq.get(p.seq)!, p.state));
      if (c.budget && bucket) {
        const left = take(bucket, runs.length).state;
        await t.c.query('UPDATE buckets SET tokens = $2, at = $3 WHERE key = $1', [c.budget.key, left.tokens, left.at]);
      }
      return runs;
    });
  }

  async settleRuns(owner: string, transitions: RunTransition[], now: number): Promise<boolean[]> {
    if (!transitions.length) return [];
    return this.db.tx(async (t) => {
      await this.lockOrderKeys(t, transitions.flatMap((tr) => tr.effects));
      const applied: boolean[] = [];
      const effects: Array<NewEffect & { messageId: null }> = [];
      const results: NewResult[] = [];
      const touch: ItemRef[] = [];
      for (const tr of transitions) {
        // SQLite keeps the last of a column set twice; PostgreSQL refuses it.
        const values = [...new Map(patchValues(tr.patch)).entries()];
        const sets = ['updated_at = $1', 'owner = NULL', 'lease_until = NULL', ...values.map(([column], i) => `${column} = $${i + 5}`)];
        const res = await t.c.query(`UPDATE runs SET ${sets.join(', ')} WHERE id = $2 AND state = $3 AND owner = $4`,
          [now, tr.runId, tr.expect, owner, ...values.map(([, v]) => v)]);
        const ok = res.rowCount === 1;
        applied.push(ok);
        if (!ok) continue;
        // A run that ended may free its rule's in-flight slot: other daemons' dispatchers look again.
        if (tr.patch.state === 'finished') t.changed.add('runs');
        effects.push(...tr.effects.map((e) => ({ ...e, messageId: null })));
        results.push(...tr.results);
        touch.push(...tr.touch);
        // No announcement for the run itself: other daemons' loops look again at its due time anyway.
      }
      await this.record(t, effects, results, touch, now);
      return applied;
    });
  }

  async releaseRuns(owner: string, runIds: string[]): Promise<void> {
    if (!runIds.length) return;
    await this.db.tx(async (t) => {
      const res = await t.c.query('UPDATE runs SET owner = NULL, lease_until = NULL WHERE id = ANY($1::text[]) AND owner = $2', [runIds, owner]);
      if (res.rowCount) t.changed.add('runs');
    });
  }

  async nextRunDue(phase: 'dispatch' | 'track', executor: string, now: number, budget?: { key: string; policy: BucketPolicy }, maxInFlight?: Record<string, number>): Promise<number | null> {
    const limited = phase === 'dispatch' ? Object.entries(maxInFlight ?? {}) : [];
    const rows = await this.db.read<{ t: string | null; tokens: number | null; at: string | null }>(`WITH full_rules AS (
          SELECT l.rule FROM unnest($5::text[], $6::int[]) AS l(rule, max)
          WHERE (SELECT COUNT(*) FROM runs r WHERE r.rule = l.rule AND r.state IN ${IN_FLIGHT}) >= l.max)
      SELECT
        (SELECT MIN(CASE WHEN lease_until > $4 THEN lease_until ELSE due_at END) FROM runs WHERE executor = $1 AND phase = $2
          AND NOT (state = 'pending' AND rule IN (SELECT rule FROM full_rules))) AS t,
        (SELECT tokens FROM buckets WHERE key = $3) AS tokens, (SELECT at FROM buckets WHERE key = $3) AS at`,
    [executor, phase, budget?.key ?? null, now, limited.map(([rule]) => rule), limited.map(([, max]) => max)]);
    const due = num(rows[0].t);
    if (due === null || !budget) return due;
    const state = rows[0].tokens === null ? null : { tokens: rows[0].tokens, at: Number(rows[0].at) };
    return Math.max(due, nextTokenAt(state, budget.policy, now, budget.policy.burst));
  }

  async claimEffects(peer: Peer, lease: Lease, limit: number): Promise<Effect[]> {
    return this.db.tx(async (t) => {
      const rows = (await t.c.query<EffectRow & { was_in_flight: boolean }>(`WITH due AS (
          SELECT e.id, e.in_flight FROM effects e
          WHERE e.state = 'pending' AND e.peer = $1 AND e.next_at <= $2 AND (e.lease_until IS NULL OR e.lease_until < $2)
            AND NOT EXISTS (SELECT 1 FROM effects p WHERE p.order_key = e.order_key AND p.peer = e.peer AND p.state = 'pending' AND p.id < e.id)
          ORDER BY e.next_at, e.id LIMIT $3 FOR UPDATE OF e SKIP LOCKED),
        c AS (UPDATE effects x SET attempts = x.attempts + 1, in_flight = true, owner = $4, lease_until = $5
          FROM due WHERE x.id = due.id RETURNING x.*, due.in_flight AS was_in_flight)
        SELECT ${EFFECT_COLUMNS}, e.was_in_flight FROM c e JOIN effect_payloads p ON p.id = e.id ORDER BY e.next_at, e.id`,
      [peer, lease.now, limit, lease.owner, lease.now + lease.leaseMs])).rows;
      const effects = rows.map((row) => ({ ...toEffect(row), interrupted: row.was_in_flight }));
      // A notice's thread, read now: its opener (an earlier effect of the same order key) is settled.
      const keys = effects.flatMap((e) => (e.payload.kind === 'notice' ? [[e.payload.thread, e.payload.notice.channel ?? '']] : []));
      if (!keys.length) return effects;
      const threads = (await t.c.query<{ thread: string; channel: string; opener: string | null; ts: string | null }>(`SELECT thread, channel, opener, ts
        FROM threads WHERE (thread, channel) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, [keys.map((k) => k[0]), keys.map((k) => k[1])])).rows;
      const byKey = new Map(threads.map((r) => [`${r.thread}\u0000${r.channel}`, { opener: num(r.opener), ts: r.ts }]));
      return effects.map((e) => (e.payload.kind === 'notice'
        ? { ...e, thread: byKey.get(`${e.payload.thread}\u0000${e.payload.notice.channel ?? ''}`) ?? null } : e));
    });
  }

  async settleEffects(owner: string, settlements: Settlement[], now: number): Promise<void> {
    if (!settlements.length) return;
    await this.db.tx(async (t) => {
      for (const s of settlements) {
        if (s.state === 'done') {
          const done = await t.c.query(`UPDATE effects SET state = 'done', in_flight = false, owner = NULL, lease_until = NULL, done_at = $1, last_error = NULL
            WHERE id = $2 AND owner = $3`, [now, s.id, owner]);
          if (done.rowCount && s.thread) {
            await t.c.query('UPDATE threads SET ts = $1 WHERE thread = $2 AND channel = $3', [s.thread.ts, s.thread.thread, s.thread.channel]);
          }
        } else if (s.state === 'retry') {
          await t.c.query('UPDATE effects SET in_flight = false, owner = NULL, lease_until = NULL, next_at = $1, last_error = $2 WHERE id = $3 AND owner = $4',
            [s.nextAt, s.error, s.id, owner]);
        } else {
          await t.c.query(`UPDATE effects SET state = 'failed', in_flight = false, owner = NULL, lease_until = NULL, done_at = $1, last_error = $2
            WHERE id = $3 AND owner = $4`, [now, s.error, s.id, owner]);
        }
      }
    });
  }

  async nextEffectDue(peer: Peer, now: number): Promise<number | null> {
    const rows = await this.db.read<{ t: string | null }>(`SELECT MIN(CASE WHEN lease_until > $2 THEN lease_until ELSE next_at END) AS t FROM effects
      WHERE peer = $1 AND state = 'pending'`, [peer, now]);
    return num(rows[0].t);
  }

  async thread(thread: string, channel: string): Promise<ThreadState | null> {
    const rows = await this.db.read<{ opener: string | null; ts: string | null }>('SELECT opener, ts FROM threads WHERE thread = $1 AND channel = $2', [thread, channel]);
    return rows[0] ? { opener: num(rows[0].opener), ts: rows[0].ts } : null;
  }

  async claimGates(lease: Lease, limit: number): Promise<GateClaim[]> {
    return this.db.tx(async (t) => {
      const gates = (await t.c.query<{ key: string; subject: string; decision: string | null; reasons: string; released: boolean; version: number; updated_at: string }>(`
        WITH due AS (SELECT key FROM gates WHERE version > evaluated AND (lease_until IS NULL OR lease_until < $1)
          ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)
        UPDATE gates g SET owner = $3, lease_until = $4 FROM due WHERE g.key = due.key
        RETURNING g.key, g.subject, g.decision, g.reasons, g.released, g.version, g.updated_at`,
      [lease.now, limit, lease.owner, lease.now + lease.leaseMs])).rows;
      if (!gates.length) return [];
      const results = (await t.c.query<ResultRow & { gate_key: string }>(`SELECT g.gate_key, r.* FROM results r
        JOIN gate_items g ON g.item = r.item AND g.type = r.type WHERE g.gate_key = ANY($1::text[]) ORDER BY r.seq`, [gates.map((g) => g.key)])).rows;
      const waivers = (await t.c.query<WaiverRow & { gate_key: string }>(`SELECT g.gate_key, w.* FROM waivers w
        JOIN gate_items g ON g.item = w.item AND g.type = w.type WHERE g.gate_key = ANY($1::text[]) AND w.revoked_at IS NULL ORDER BY w.created_at`,
      [gates.map((g) => g.key)])).rows;
      return gates
        .sort((x, y) => Number(x.updated_at) - Number(y.updated_at))
        .map((row) => {
          const gate: Gate = {
            ...(JSON.parse(row.subject) as GateSubject),
            decision: row.decision as Gate['decision'],
            reasons: JSON.parse(row.reasons) as GateReason[],
            released: row.released,
            updatedAt: Number(row.updated_at),
          };
          return {
            gate, version: row.version, results: results.filter((r) => r.gate_key === row.key).map(toResult),
            waivers: waivers.filter((w) => w.gate_key === row.key).map(toWaiver),
          };
        });
    });
  }

  async settleGates(owner: string, settlements: GateSettlement[], now: number): Promise<boolean[]> {
    if (!settlements.length) return [];
    return this.db.tx(async (t) => {
      await this.lockOrderKeys(t, settlements.flatMap((s) => s.effects));
      const applied: boolean[] = [];
      const effects: Array<NewEffect & { messageId: null }> = [];
      for (const s of settlements) {
        const d = s.decision;
        const res = await t.c.query<{ product: string; again: boolean }>(`UPDATE gates SET evaluated = $1, owner = NULL, lease_until = NULL, updated_at = $2,
            decision = COALESCE($3, decision), reasons = COALESCE($4, reasons), released = released OR $5
          WHERE key = $6 AND owner = $7 RETURNING product, version > evaluated AS again`,
        [s.version, now, d?.decision ?? null, d ? JSON.stringify(d.reasons) : null, s.released === true, s.key, owner]);
        const row = res.rows[0];
        applied.push(row !== undefined);
        if (!row) continue;
        if (row.again) t.changed.add('gates');
        if (d) {
          await t.c.query('INSERT INTO decisions (gate_key, product, decision, mode, action, reasons, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
            [s.key, row.product, d.decision, d.mode, d.action, JSON.stringify(d.reasons), d.createdAt]);
        }
        effects.push(...s.effects.map((e) => ({ ...e, messageId: null })));
      }
      await this.record(t, effects, [], [], now);
      return applied;
    });
  }

  async nextGateDue(now: number): Promise<number | null> {
    const rows = await this.db.read<{ t: string | null }>('SELECT MIN(COALESCE(lease_until, 0)) AS t FROM gates WHERE version > evaluated');
    const t = num(rows[0].t);
    return t === null ? null : Math.max(now, t);
  }

  async gate(key: string): Promise<Gate | null> {
    const [row] = await this.db.read<{ subject: string; decision: string | null; reasons: string; released: boolean; updated_at: string }>(
      'SELECT subject, decision, reasons, released, updated_at FROM gates WHERE key = $1', [key]);
    if (!row) return null;
    return {
      ...(JSON.parse(row.subject) as GateSubject), decision: row.decision as Gate['decision'], reasons: JSON.parse(row.reasons) as GateReason[],
      released: row.released, updatedAt: Number(row.updated_at),
    };
  }

  async run(runId: string): Promise<Run | null> {
    const [row] = await this.db.read<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs r JOIN run_plans p ON p.id = r.id WHERE r.id = $1`, [runId]);
    return row ? toRun(row) : null;
  }

  async waiver(id: string): Promise<Waiver | null> {
    const [row] = await this.db.read<WaiverRow>('SELECT * FROM waivers WHERE id = $1', [id]);
    return row ? toWaiver(row) : null;
  }

  async recordAction(r: ActionRecord): Promise<'recorded' | 'duplicate'> {
    return this.db.tx(async (t) => {
      await this.lockOrderKeys(t, r.change.effects);
      const a = r.action;
      const inserted = await t.c.query(`INSERT INTO actions (id, kind, product, gate_key, run_id, waiver_id, reason, who, via, at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
      [a.id, a.kind, a.product, a.gateKey ?? null, a.runId ?? null, a.waiverId ?? r.waiver?.id ?? null, a.reason ?? null, a.who, a.via, a.at]);
      if (!inserted.rowCount) return 'duplicate';
      if (r.releaseGate) {
        const released = await t.c.query('UPDATE gates SET released = true, updated_at = $1 WHERE key = $2 AND NOT released', [a.at, r.releaseGate]);
        // Released already (by the knob or another person): undo the action's record, change nothing.
        if (!released.rowCount) { await t.c.query('DELETE FROM actions WHERE id = $1', [a.id]); return 'duplicate'; }
      }
      if (r.waiver) {
        const w = r.waiver;
        await t.c.query(`INSERT INTO waivers (id, product, item, type, testcase, scenario, reason, who, created_at)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
        [w.id, w.product, w.item, w.type, w.testcase, w.scenario, w.reason, w.who, w.createdAt]);
      }
      if (r.revoke) {
        await t.c.query('UPDATE waivers SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL', [r.revoke.at, r.revoke.by, r.revoke.waiverId]);
      }
      if (r.rerun) {
        const { messageId, ...plan } = r.rerun;
        await t.c.query(`WITH r AS (
            INSERT INTO runs (id, message_id, rule, executor, content_hash, supersede_key, state, phase, due_at, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, 'pending', 'dispatch', $7, $7, $7) ON CONFLICT DO NOTHING RETURNING id),
          p AS (INSERT INTO run_plans (id, plan) SELECT id, $8 FROM r ON CONFLICT DO NOTHING)
          INSERT INTO run_subjects (subject, run_id, message_id, created_at) SELECT x, r.id, $2, $7 FROM r, unnest($9::text[]) AS x ON CONFLICT DO NOTHING`,
        [plan.id, messageId, plan.rule, plan.executor, `rerun:${a.id}`, plan.supersedeKey ?? null, a.at, JSON.stringify(plan), subjectsOf(plan)]);
        t.changed.add('runs');
      }
      await this.record(t, r.change.effects.map((e) => ({ ...e, messageId: e.runId ? null : e.payload.kind === 'notice' ? e.payload.thread : null })),
        r.change.results, r.change.touch, a.at);
      return 'recorded';
    });
  }

  async lastReceived(topics: string[]): Promise<Record<string, number | null>> {
    const rows = await this.db.read<{ topic: string; t: string | null }>(`SELECT u.topic, (SELECT MAX(received_at) FROM messages m WHERE m.topic = u.topic) AS t
      FROM unnest($1::text[]) AS u(topic)`, [topics]);
    return Object.fromEntries(rows.map((r) => [r.topic, num(r.t)]));
  }

  async oldestUnfinished(): Promise<Array<{ rule: string; runId: string; createdAt: number }>> {
    const rows = await this.db.read<{ rule: string; id: string; created_at: string }>(`SELECT DISTINCT ON (rule) rule, id, created_at FROM runs
      WHERE state <> 'finished' ORDER BY rule, created_at, seq`);
    return rows.map((r) => ({ rule: r.rule, runId: r.id, createdAt: Number(r.created_at) }));
  }

  async setAlarm(alarm: Alarm, change: Change): Promise<boolean> {
    return this.db.tx(async (t) => {
      await this.db.lock(t, [`cvp:alarm:${alarm.key}`]);
      await this.lockOrderKeys(t, change.effects);
      const [row] = (await t.c.query<{ raised: boolean }>('SELECT raised FROM alarms WHERE key = $1', [alarm.key])).rows;
      if ((row?.raised ?? false) === alarm.raised) return false;
      await t.c.query(`INSERT INTO alarms (key, raised, since, detail) VALUES ($1, $2, $3, $4)
        ON CONFLICT (key) DO UPDATE SET raised = EXCLUDED.raised, since = EXCLUDED.since, detail = EXCLUDED.detail`,
      [alarm.key, alarm.raised, alarm.since, alarm.detail]);
      await this.record(t, change.effects.map((e) => ({ ...e, messageId: e.runId ? null : e.payload.kind === 'notice' ? e.payload.thread : null })),
        change.results, change.touch, alarm.since);
      return true;
    });
  }

  async alarms(): Promise<Alarm[]> {
    const rows = await this.db.read<{ key: string; raised: boolean; since: string; detail: string }>('SELECT * FROM alarms ORDER BY key');
    return rows.map((r) => ({ key: r.key, raised: r.raised, since: Number(r.since), detail: r.detail }));
  }

  async claimOwners(): Promise<string[]> {
    const rows = await this.db.read<{ owner: string }>(`SELECT owner FROM runs WHERE owner IS NOT NULL UNION SELECT owner FROM effects WHERE owner IS NOT NULL
      UNION SELECT owner FROM gates WHERE owner IS NOT NULL`);
    return rows.map((r) => r.owner);
  }

  async releaseClaims(owners: string[]): Promise<number> {
    if (!owners.length) return 0;
    return this.db.tx(async (t) => {
      let n = 0;
      for (const [table, kind] of [['runs', 'runs'], ['effects', 'effects'], ['gates', 'gates']] as const) {
        const res = await t.c.query(`UPDATE ${table} SET owner = NULL, lease_until = NULL WHERE owner = ANY($1::text[])`, [owners]);
        if (res.rowCount) t.changed.add(kind);
        n += res.rowCount ?? 0;
      }
      return n;
    });
  }

  async probe(now: number): Promise<void> {
    await this.db.tx(async (t) => {
      await t.c.query('INSERT INTO probe (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = EXCLUDED.at', [now]);
    });
  }

  async prune(policy: RetentionPolicy, now: number): Promise<PruneReport> {
    const cutoff = now - policy.maxAgeMs;
    const n = policy.batch;
    return this.db.tx(async (t) => {
      const count = async (sql: string, params: unknown[]) => (await t.c.query<{ n: number }>(sql, params)).rows[0].n;
      const effects = await count(`WITH d AS (DELETE FROM effects WHERE id IN (
          SELECT id FROM effects WHERE state <> 'pending' AND done_at < $1 LIMIT $2) RETURNING id),
        p AS (DELETE FROM effect_payloads WHERE id IN (SELECT id FROM d))
        SELECT COUNT(*)::int AS n FROM d`, [cutoff, n]);
      const runs = await count(`WITH old AS (SELECT id FROM runs r WHERE state = 'finished' AND finished_at < $1
          AND NOT EXISTS (SELECT 1 FROM effects e WHERE e.run_id = r.id AND e.state = 'pending') LIMIT $2),
        a AS (DELETE FROM run_plans WHERE id IN (SELECT id FROM old)),
        b AS (DELETE FROM run_subjects WHERE run_id IN (SELECT id FROM old)),
        d AS (DELETE FROM runs WHERE id IN (SELECT id FROM old) RETURNING 1)
        SELECT COUNT(*)::int AS n FROM d`, [cutoff, n]);
      const messages = (await t.c.query(`DELETE FROM messages WHERE pk IN (SELECT pk FROM messages m WHERE received_at < $1
          AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.message_id = m.message_id)
          AND NOT EXISTS (SELECT 1 FROM effects e WHERE e.message_id = m.message_id AND e.state = 'pending') LIMIT $2)`, [cutoff, n])).rowCount ?? 0;
      const results = (await t.c.query('DELETE FROM results WHERE seq IN (SELECT seq FROM results WHERE created_at < $1 LIMIT $2)', [cutoff, n])).rowCount ?? 0;
      const gates = await count(`WITH old AS (SELECT key FROM gates WHERE updated_at < $1 AND version <= evaluated LIMIT $2),
        a AS (DELETE FROM gate_items WHERE gate_key IN (SELECT key FROM old)),
        b AS (DELETE FROM decisions WHERE gate_key IN (SELECT key FROM old)),
        d AS (DELETE FROM gates WHERE key IN (SELECT key FROM old) RETURNING 1)
        SELECT COUNT(*)::int AS n FROM d`, [cutoff, n]);
      await t.c.query(`DELETE FROM threads WHERE (thread, channel) IN (SELECT thread, channel FROM threads WHERE created_at < $1 LIMIT $2)`, [cutoff, n]);
      await t.c.query('DELETE FROM actions WHERE id IN (SELECT id FROM actions WHERE at < $1 LIMIT $2)', [cutoff, n]);
      await t.c.query('DELETE FROM waivers WHERE id IN (SELECT id FROM waivers WHERE revoked_at < $1 LIMIT $2)', [cutoff, n]);
      return { messages, runs, effects, results, gates };
    });
  }

  eventStatus(messageId: string): Promise<EventStatus | null> { return this.queries.eventStatus(messageId); }
  messagesAbout(artifact: string, limit: number): Promise<string[]> { return this.queries.messagesAbout(artifact, limit); }
  rejectedMessages(since: number, limit: number): Promise<MessageRecord[]> { return this.queries.rejectedMessages(since, limit); }
  decisions(product: string | undefined, limit: number): Promise<DecisionRecord[]> { return this.queries.decisions(product, limit); }
  stats(now: number): Promise<JournalStats> { return this.queries.stats(now); }
  actions(product: string | undefined, limit: number): Promise<HumanAction[]> { return this.queries.actions(product, limit); }
  waivers(product: string | undefined, withRevoked: boolean, limit: number): Promise<Waiver[]> { return this.queries.waivers(product, withRevoked, limit); }
  recentMessages(limit: number, status?: MessageRecord['status']): Promise<MessageRecord[]> { return this.queries.recentMessages(limit, status); }

  onChange(listener: (what: ChangeKind) => void): void {
    if (!this.db.isClosed) this.notifications.add(listener);
  }

  async close(): Promise<void> {
    if (this.db.isClosed) return;
    // Closed at once (no statement starts after this), the pool ended once LISTEN has stopped.
    const ended = this.db.close();
    await this.notifications.close();
    await ended;
  }
}
