import Database from 'better-sqlite3';
import { permanentError } from '../../errors';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Journal } from '../../listener/ports/journal';
import type { DecisionRecord, Effect, EventStatus, Gate, GateReason, GateSubject, IntakeCommit, IntakeRecord, KnownResult, MessageRecord, NewEffect, Peer, Run, RunPatch, RunState, Settlement } from '../../listener/domain';

/** Bumped with every change of the tables below; an older file is refused, not misread. */
const SCHEMA_VERSION = 3;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  pk INTEGER PRIMARY KEY,
  message_id TEXT NOT NULL UNIQUE,
  topic TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  source TEXT NOT NULL,
  status TEXT NOT NULL,
  reasons TEXT NOT NULL,
  headers TEXT NOT NULL,
  body TEXT NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_hash ON messages(content_hash);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  message_id TEXT NOT NULL,
  rule TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  plan TEXT NOT NULL,
  state TEXT NOT NULL,
  build_ref TEXT,
  build_result TEXT,
  outcome TEXT,
  error_reason TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deadline_at INTEGER,
  next_poll_at INTEGER,
  UNIQUE (content_hash, rule)
);
CREATE INDEX IF NOT EXISTS runs_state ON runs(state, next_poll_at);
CREATE INDEX IF NOT EXISTS runs_message ON runs(message_id);
CREATE TABLE IF NOT EXISTS effects (
  id INTEGER PRIMARY KEY,
  run_id TEXT,
  message_id TEXT,
  peer TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  last_error TEXT,
  in_flight INTEGER NOT NULL DEFAULT 0,
  order_key TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  done_at INTEGER
);
CREATE INDEX IF NOT EXISTS effects_due ON effects(peer, state, next_at);
CREATE INDEX IF NOT EXISTS effects_order ON effects(order_key, peer, state);
CREATE INDEX IF NOT EXISTS effects_run ON effects(run_id);
CREATE TABLE IF NOT EXISTS threads (
  thread TEXT NOT NULL,
  channel TEXT NOT NULL,
  ts TEXT,
  PRIMARY KEY (thread, channel)
);
CREATE TABLE IF NOT EXISTS results (
  id INTEGER PRIMARY KEY,
  item TEXT NOT NULL,
  type TEXT NOT NULL,
  testcase TEXT NOT NULL,
  outcome TEXT NOT NULL,
  ref_url TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS results_item ON results(item, type, testcase, id);
CREATE TABLE IF NOT EXISTS gates (
  key TEXT PRIMARY KEY,
  product TEXT NOT NULL,
  subject TEXT NOT NULL,
  decision TEXT,
  reasons TEXT NOT NULL DEFAULT '[]',
  released INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS gate_items (
  gate_key TEXT NOT NULL,
  item TEXT NOT NULL,
  type TEXT NOT NULL,
  PRIMARY KEY (item, type, gate_key)
);
CREATE TABLE IF NOT EXISTS decisions (
  id INTEGER PRIMARY KEY,
  gate_key TEXT NOT NULL,
  decision TEXT NOT NULL,
  mode TEXT NOT NULL,
  action TEXT NOT NULL,
  reasons TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_gate ON decisions(gate_key, id);
`;

interface RunRow {
  id: string; message_id: string; plan: string; state: string; build_ref: string | null;
  build_result: string | null; outcome: string | null; error_reason: string | null; attempts: number;
  created_at: number; updated_at: number; deadline_at: number | null; next_poll_at: number | null;
}

interface EffectRow {
  id: number; run_id: string | null; message_id: string | null; peer: string; payload: string; state: string;
  attempts: number; next_at: number; last_error: string | null; in_flight: number; created_at: number; done_at: number | null;
}

const PATCH_COLUMNS: Record<keyof RunPatch, string> = {
  state: 'state', buildRef: 'build_ref', buildResult: 'build_result', outcome: 'outcome',
  errorReason: 'error_reason', deadlineAt: 'deadline_at', nextPollAt: 'next_poll_at', attempts: 'attempts',
};

/**
 * The journal on one SQLite file in WAL mode. Commits are durable (synchronous=FULL) because a
 * message is acked right after; callers batch intake records so one fsync covers many messages.
 */
export class SqliteJournal implements Journal {
  private readonly db: Database.Database;
  private readonly stmts;
  private readonly patchStatements = new Map<string, Database.Statement>();

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    const version = this.db.pragma('user_version', { simple: true }) as number;
    const fresh = !this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages'`).get();
    if (!fresh && version !== SCHEMA_VERSION) {
      this.db.close();
      throw permanentError('JOURNAL_FAILED', `the journal ${path} has schema version ${version}, this CVP writes version ${SCHEMA_VERSION}: `
        + 'let the old version finish its runs, then move the file aside (or point journal.path elsewhere)');
    }
    this.db.exec(SCHEMA);
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    const db = this.db;
    this.stmts = {
      messageExists: db.prepare('SELECT 1 FROM messages WHERE message_id = ?'),
      insertMessage: db.prepare(`INSERT INTO messages (message_id, topic, content_hash, source, status, reasons, headers, body, received_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      insertRun: db.prepare(`INSERT OR IGNORE INTO runs (id, message_id, rule, content_hash, plan, state, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`),
      insertEffect: db.prepare(`INSERT INTO effects (run_id, message_id, peer, payload, state, next_at, created_at, order_key)
        VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`),
      insertResult: db.prepare(`INSERT INTO results (item, type, testcase, outcome, ref_url, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
      threadTs: db.prepare('SELECT ts FROM threads WHERE thread = ? AND channel = ?'),
      claimThread: db.prepare('INSERT OR IGNORE INTO threads (thread, channel, ts) VALUES (?, ?, NULL)'),
      setThreadTs: db.prepare('INSERT INTO threads (thread, channel, ts) VALUES (?, ?, ?) ON CONFLICT (thread, channel) DO UPDATE SET ts = excluded.ts'),
      insertGate: db.prepare(`INSERT OR IGNORE INTO gates (key, product, subject, updated_at) VALUES (?, ?, ?, ?)`),
      insertGateItem: db.prepare(`INSERT OR IGNORE INTO gate_items (gate_key, item, type) VALUES (?, ?, ?)`),
      getGate: db.prepare('SELECT * FROM gates WHERE key = ?'),
      gatesForItem: db.prepare('SELECT gate_key FROM gate_items WHERE item = ? AND type = ?'),
      openGates: db.prepare(`SELECT key FROM gates WHERE decision IS NULL ORDER BY updated_at LIMIT ?`),
      latestResults: db.prepare(`SELECT r.* FROM results r JOIN json_each(?) w
          ON r.item = json_extract(w.value, '$.item') AND r.type = json_extract(w.value, '$.type')
        WHERE r.id = (SELECT MAX(id) FROM results x WHERE x.item = r.item AND x.type = r.type AND x.testcase = r.testcase)`),
      updateGate: db.prepare('UPDATE gates SET decision = ?, reasons = ?, released = ?, updated_at = ? WHERE key = ?'),
      insertDecision: db.prepare(`INSERT INTO decisions (gate_key, decision, mode, action, reasons, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
      decisions: db.prepare('SELECT * FROM decisions WHERE gate_key = ? ORDER BY id'),
      allDecisions: db.prepare(`SELECT d.* FROM decisions d JOIN gates g ON g.key = d.gate_key WHERE (@product IS NULL OR g.product = @product) ORDER BY d.id DESC LIMIT @limit`),
      runsByState: db.prepare('SELECT state, COUNT(*) AS n FROM runs GROUP BY state'),
      effectsPending: db.prepare(`SELECT peer, COUNT(*) AS n FROM effects WHERE state = 'pending' GROUP BY peer`),
      oldestRun: db.prepare(`SELECT MIN(created_at) AS t FROM runs WHERE state != 'finished'`),
      runsInState: db.prepare(`SELECT * FROM runs WHERE state IN (SELECT value FROM json_each(@states))
        AND (@dueBy IS NULL OR (next_poll_at IS NOT NULL AND next_poll_at <= @dueBy)) ORDER BY created_at LIMIT @limit`),
      runsDue: db.prepare(`SELECT * FROM runs WHERE state IN ('queued', 'running') AND next_poll_at <= ? ORDER BY next_poll_at LIMIT ?`),
      nextPoll: db.prepare(`SELECT MIN(next_poll_at) AS t FROM runs WHERE state IN ('queued', 'running')`),
      getRun: db.prepare('SELECT * FROM runs WHERE id = ?'),
      runsOfMessage: db.prepare('SELECT * FROM runs WHERE message_id = ? ORDER BY created_at'),
      dueEffects: db.prepare(`SELECT * FROM effects e WHERE e.peer = ? AND e.state = 'pending' AND e.next_at <= ?
        AND NOT EXISTS (SELECT 1 FROM effects p WHERE p.order_key = e.order_key AND p.peer = e.peer
          AND p.id < e.id AND p.state = 'pending')
        ORDER BY e.next_at, e.id LIMIT ?`),
      nextEffect: db.prepare(`SELECT MIN(next_at) AS t FROM effects WHERE peer = ? AND state = 'pending'`),
      claimEffect: db.prepare(`UPDATE effects SET attempts = attempts + 1, in_flight = 1 WHERE id = ?`),
      completeEffect: db.prepare(`UPDATE effects SET state = 'done', in_flight = 0, done_at = ?, last_error = NULL WHERE id = ?`),
      retryEffect: db.prepare(`UPDATE effects SET in_flight = 0, next_at = ?, last_error = ? WHERE id = ?`),
      failEffect: db.prepare(`UPDATE effects SET state = 'failed', in_flight = 0, done_at = ?, last_error = ? WHERE id = ?`),
      getMessage: db.prepare('SELECT * FROM messages WHERE message_id = ?'),
      messagesAbout: db.prepare(`SELECT message_id FROM runs WHERE json_extract(plan, '$.context.artifactId') = @artifact
        OR EXISTS (SELECT 1 FROM json_each(runs.plan, '$.items') WHERE json_extract(value, '$.item') = @artifact)
        GROUP BY message_id ORDER BY MAX(created_at) DESC LIMIT @limit`),
      rejected: db.prepare(`SELECT * FROM messages WHERE status = 'rejected' AND received_at >= ? ORDER BY received_at, pk LIMIT ?`),
      effectsOfMessage: db.prepare(`SELECT * FROM effects WHERE message_id = ? OR run_id IN (SELECT id FROM runs WHERE message_id = ?) ORDER BY id`),
    };
  }

  atomically<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  commitIntake(records: IntakeRecord[]): IntakeCommit[] {
    return this.db.transaction(() => records.map((r) => this.commitOne(r)))();
  }

  private commitOne(r: IntakeRecord): IntakeCommit {
    const { envelope: env } = r;
    if (this.stmts.messageExists.get(env.id)) return { status: 'duplicate', runIds: [], duplicateRuns: 0 };
    const status = r.verdict.kind;
    const reasons = r.verdict.kind === 'rejected' ? r.verdict.reasons : [];
    this.stmts.insertMessage.run(env.id, env.topic, r.contentHash, env.source, status, JSON.stringify(reasons),
      JSON.stringify(env.headers), env.body, r.receivedAt);
    const runIds: string[] = [];
    let duplicateRuns = 0;
    if (r.verdict.kind === 'routed') {
      for (const plan of r.verdict.runs) {
        const res = this.stmts.insertRun.run(plan.id, env.id, plan.rule, r.contentHash, JSON.stringify(plan), r.receivedAt, r.receivedAt);
        if (res.changes === 1) runIds.push(plan.id);
        else duplicateRuns += 1;
      }
    }
    for (const e of r.effects) this.insertEffect(e, env.id, r.receivedAt);
    for (const g of r.gates ?? []) {
      this.stmts.insertGate.run(g.key, g.product, JSON.stringify(g), r.receivedAt);
      for (const i of g.items) this.stmts.insertGateItem.run(g.key, i.item, i.type);
    }
    return { status: 'recorded', runIds, duplicateRuns };
  }

  private insertEffect(e: NewEffect, messageId: string | null, now: number): void {
    const orderKey = e.orderKey ?? e.runId ?? messageId ?? 'none';
    this.stmts.insertEffect.run(e.runId, e.runId ? null : messageId, e.peer, JSON.stringify(e.payload), now, now, orderKey);
    // What the gate reads: every result CVP writes or takes in, as soon as it is decided.
    if (e.payload.kind === 'result') {
      const r = e.payload.result;
      this.stmts.insertResult.run(String(r.data.item), String(r.data.type), r.testcase.name, r.outcome, r.ref_url ?? null, now);
    }
  }

  threadTs(thread: string, channel: string): string | null {
    return (this.stmts.threadTs.get(thread, channel) as { ts: string } | undefined)?.ts ?? null;
  }

  private claimThread(thread: string, channel: string): boolean {
    return this.stmts.claimThread.run(thread, channel).changes === 1;
  }

  private setThreadTs(thread: string, channel: string, ts: string): void {
    this.stmts.setThreadTs.run(thread, channel, ts);
  }

  gate(key: string): Gate | null {
    const row = this.stmts.getGate.get(key) as { subject: string; decision: string | null; reasons: string; released: number; updated_at: number } | undefined;
    if (!row) return null;
    return {
      ...(JSON.parse(row.subject) as GateSubject),
      decision: row.decision as Gate['decision'],
      reasons: JSON.parse(row.reasons) as GateReason[],
      released: row.released === 1,
      updatedAt: row.updated_at,
    };
  }

  gatesForItem(item: string, type: string): string[] {
    return (this.stmts.gatesForItem.all(item, type) as Array<{ gate_key: string }>).map((r) => r.gate_key);
  }

  openGates(limit: number): string[] {
    return (this.stmts.openGates.all(limit) as Array<{ key: string }>).map((r) => r.key);
  }

  latestResults(items: Array<{ item: string; type: string }>): KnownResult[] {
    const rows = this.stmts.latestResults.all(JSON.stringify(items)) as Array<{ item: string; type: string; testcase: string; outcome: string; ref_url: string | null; created_at: number }>;
    return rows.map((r) => ({ item: r.item, type: r.type, testcase: r.testcase, outcome: r.outcome, refUrl: r.ref_url, createdAt: r.created_at }));
  }

  recordDecision(record: DecisionRecord, released: boolean, effects: NewEffect[], now: number): void {
    this.db.transaction(() => {
      this.stmts.updateGate.run(record.decision, JSON.stringify(record.reasons), released ? 1 : 0, now, record.gateKey);
      this.stmts.insertDecision.run(record.gateKey, record.decision, record.mode, record.action, JSON.stringify(record.reasons), record.createdAt);
      for (const e of effects) this.insertEffect(e, null, now);
    })();
  }

  decisions(gateKey: string): DecisionRecord[] {
    return (this.stmts.decisions.all(gateKey) as DecisionRow[]).map(toDecision);
  }

  allDecisions(product: string | undefined, limit: number): DecisionRecord[] {
    return (this.stmts.allDecisions.all({ product: product ?? null, limit }) as DecisionRow[]).map(toDecision);
  }

  runsInState(states: RunState[], limit: number, dueBy?: number): Run[] {
    return (this.stmts.runsInState.all({ states: JSON.stringify(states), limit, dueBy: dueBy ?? null }) as RunRow[]).map(toRun);
  }

  runsDueForPoll(now: number, limit: number): Run[] {
    return (this.stmts.runsDue.all(now, limit) as RunRow[]).map(toRun);
  }

  nextPollAt(): number | null {
    return (this.stmts.nextPoll.get() as { t: number | null }).t;
  }

  getRun(runId: string): Run | null {
    const row = this.stmts.getRun.get(runId) as RunRow | undefined;
    return row ? toRun(row) : null;
  }

  startRun(runId: string, patch: RunPatch, thread: { thread: string; channel: string }, effectsFor: (firstOfThread: boolean) => NewEffect[], now: number): void {
    this.db.transaction(() => {
      const first = this.claimThread(thread.thread, thread.channel);
      this.patchRun(runId, patch, now);
      for (const e of effectsFor(first)) this.insertEffect(e, null, now);
    })();
  }

  transitionRun(runId: string, patch: RunPatch, effects: NewEffect[], now: number): void {
    this.db.transaction(() => {
      this.patchRun(runId, patch, now);
      for (const e of effects) this.insertEffect(e, null, now);
    })();
  }

  private patchRun(runId: string, patch: RunPatch, now: number): void {
    const sets: string[] = ['updated_at = ?'];
    const values: unknown[] = [now];
    for (const [key, column] of Object.entries(PATCH_COLUMNS) as Array<[keyof RunPatch, string]>) {
      if (!(key in patch)) continue;
      sets.push(`${column} = ?`);
      const v = patch[key];
      values.push(key === 'buildRef' ? (v == null ? null : JSON.stringify(v)) : v);
    }
    const sql = `UPDATE runs SET ${sets.join(', ')} WHERE id = ?`;
    // A handful of column sets recur; preparing each once keeps SQL compilation off the hot path.
    let stmt = this.patchStatements.get(sql);
    if (!stmt) { stmt = this.db.prepare(sql); this.patchStatements.set(sql, stmt); }
    stmt.run(...values, runId);
  }

  dueEffects(peer: Peer, now: number, limit: number): Effect[] {
    return (this.stmts.dueEffects.all(peer, now, limit) as EffectRow[]).map(toEffect);
  }

  nextEffectAt(peer: Peer): number | null {
    return (this.stmts.nextEffect.get(peer) as { t: number | null }).t;
  }

  claimEffects(effectIds: number[]): void {
    this.db.transaction(() => { for (const id of effectIds) this.stmts.claimEffect.run(id); })();
  }

  settleEffects(settlements: Settlement[], now: number): void {
    if (!settlements.length) return;
    this.db.transaction(() => {
      for (const s of settlements) {
        if (s.state === 'done') {
          this.stmts.completeEffect.run(now, s.id);
          if (s.thread) this.setThreadTs(s.thread.thread, s.thread.channel, s.thread.ts);
        } else if (s.state === 'retry') this.stmts.retryEffect.run(s.nextAt, s.error, s.id);
        else this.stmts.failEffect.run(now, s.error, s.id);
      }
    })();
  }

  eventStatus(messageId: string): EventStatus | null {
    const m = this.stmts.getMessage.get(messageId) as MessageRow | undefined;
    if (!m) return null;
    return {
      message: toMessage(m),
      runs: (this.stmts.runsOfMessage.all(messageId) as RunRow[]).map(toRun),
      effects: (this.stmts.effectsOfMessage.all(messageId, messageId) as EffectRow[]).map(toEffect),
    };
  }

  messagesAbout(artifact: string, limit: number): string[] {
    return (this.stmts.messagesAbout.all({ artifact, limit }) as Array<{ message_id: string }>).map((r) => r.message_id);
  }

  rejectedMessages(since: number, limit: number): MessageRecord[] {
    return (this.stmts.rejected.all(since, limit) as MessageRow[]).map(toMessage);
  }

  stats(now: number): { runsByState: Record<string, number>; effectsPending: Record<string, number>; oldestUnfinishedRunAgeSeconds: number } {
    const runsByState: Record<string, number> = {};
    for (const r of this.stmts.runsByState.all() as Array<{ state: string; n: number }>) runsByState[r.state] = r.n;
    const effectsPending: Record<string, number> = {};
    for (const r of this.stmts.effectsPending.all() as Array<{ peer: string; n: number }>) effectsPending[r.peer] = r.n;
    const oldest = (this.stmts.oldestRun.get() as { t: number | null }).t;
    return { runsByState, effectsPending, oldestUnfinishedRunAgeSeconds: oldest === null ? 0 : Math.max(0, (now - oldest) / 1000) };
  }

  writable(): boolean {
    if (!this.db.open) return false;
    try {
      this.db.exec('BEGIN IMMEDIATE; ROLLBACK');
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

interface DecisionRow { gate_key: string; decision: string; mode: string; action: string; reasons: string; created_at: number }

function toDecision(d: DecisionRow): DecisionRecord {
  return { gateKey: d.gate_key, decision: d.decision as 'pass' | 'fail', mode: d.mode, action: d.action, reasons: JSON.parse(d.reasons) as GateReason[], createdAt: d.created_at };
}

interface MessageRow { message_id: string; topic: string; status: string; reasons: string; received_at: number; body: string }

function toMessage(m: MessageRow): MessageRecord {
  return {
    messageId: m.message_id, topic: m.topic, status: m.status as MessageRecord['status'],
    reasons: JSON.parse(m.reasons) as string[], receivedAt: m.received_at, body: m.body,
  };
}

function toRun(row: RunRow): Run {
  const plan = JSON.parse(row.plan) as Run;
  return {
    ...plan,
    messageId: row.message_id,
    state: row.state as RunState,
    buildRef: row.build_ref ? JSON.parse(row.build_ref) : null,
    buildResult: row.build_result,
    outcome: row.outcome,
    errorReason: row.error_reason,
    attempts: row.attempts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deadlineAt: row.deadline_at,
    nextPollAt: row.next_poll_at,
  };
}

function toEffect(row: EffectRow): Effect {
  return {
    id: row.id,
    runId: row.run_id,
    messageId: row.message_id,
    peer: row.peer as Peer,
    payload: JSON.parse(row.payload),
    state: row.state as Effect['state'],
    attempts: row.attempts,
    nextAt: row.next_at,
    lastError: row.last_error,
    interrupted: row.in_flight === 1,
    createdAt: row.created_at,
    doneAt: row.done_at,
  };
}
