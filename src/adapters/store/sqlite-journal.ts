import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type {
  Effect, EventStatus, IntakeCommit, IntakeRecord, Journal, MessageRecord, NewEffect, Peer, Run, RunPatch, RunState,
} from '../../listener/journal';

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
  slack_ts TEXT,
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
  created_at INTEGER NOT NULL,
  done_at INTEGER
);
CREATE INDEX IF NOT EXISTS effects_due ON effects(peer, state, next_at);
CREATE INDEX IF NOT EXISTS effects_run ON effects(run_id, peer, state);
`;

interface RunRow {
  id: string; message_id: string; plan: string; state: string; build_ref: string | null;
  build_result: string | null; outcome: string | null; error_reason: string | null; slack_ts: string | null; attempts: number;
  created_at: number; updated_at: number; deadline_at: number | null; next_poll_at: number | null;
}

interface EffectRow {
  id: number; run_id: string | null; message_id: string | null; peer: string; payload: string; state: string;
  attempts: number; next_at: number; last_error: string | null; in_flight: number; created_at: number; done_at: number | null;
}

const PATCH_COLUMNS: Record<keyof RunPatch, string> = {
  state: 'state', buildRef: 'build_ref', buildResult: 'build_result', outcome: 'outcome',
  errorReason: 'error_reason', deadlineAt: 'deadline_at', nextPollAt: 'next_poll_at', slackTs: 'slack_ts', attempts: 'attempts',
};

/**
 * The journal on one SQLite file in WAL mode. Commits are durable (synchronous=FULL) because a
 * message is acked right after; callers batch intake records so one fsync covers many messages.
 */
export class SqliteJournal implements Journal {
  private readonly db: Database.Database;
  private readonly stmts;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const db = this.db;
    this.stmts = {
      messageExists: db.prepare('SELECT 1 FROM messages WHERE message_id = ?'),
      insertMessage: db.prepare(`INSERT INTO messages (message_id, topic, content_hash, source, status, reasons, headers, body, received_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      insertRun: db.prepare(`INSERT OR IGNORE INTO runs (id, message_id, rule, content_hash, plan, state, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`),
      insertEffect: db.prepare(`INSERT INTO effects (run_id, message_id, peer, payload, state, next_at, created_at)
        VALUES (?, ?, ?, ?, 'pending', ?, ?)`),
      runsInState: db.prepare(`SELECT * FROM runs WHERE state IN (SELECT value FROM json_each(?)) ORDER BY created_at LIMIT ?`),
      runsDue: db.prepare(`SELECT * FROM runs WHERE state IN ('queued', 'running') AND next_poll_at <= ? ORDER BY next_poll_at LIMIT ?`),
      nextPoll: db.prepare(`SELECT MIN(next_poll_at) AS t FROM runs WHERE state IN ('queued', 'running')`),
      getRun: db.prepare('SELECT * FROM runs WHERE id = ?'),
      runsOfMessage: db.prepare('SELECT * FROM runs WHERE message_id = ? ORDER BY created_at'),
      dueEffects: db.prepare(`SELECT * FROM effects e WHERE e.peer = ? AND e.state = 'pending' AND e.next_at <= ?
        AND (e.run_id IS NULL OR NOT EXISTS (SELECT 1 FROM effects p WHERE p.run_id = e.run_id AND p.peer = e.peer
          AND p.id < e.id AND p.state = 'pending'))
        ORDER BY e.next_at, e.id LIMIT ?`),
      nextEffect: db.prepare(`SELECT MIN(next_at) AS t FROM effects WHERE peer = ? AND state = 'pending'`),
      claimEffect: db.prepare(`UPDATE effects SET attempts = attempts + 1, in_flight = 1 WHERE id = ?`),
      completeEffect: db.prepare(`UPDATE effects SET state = 'done', in_flight = 0, done_at = ?, last_error = NULL WHERE id = ?`),
      retryEffect: db.prepare(`UPDATE effects SET in_flight = 0, next_at = ?, last_error = ? WHERE id = ?`),
      failEffect: db.prepare(`UPDATE effects SET state = 'failed', in_flight = 0, done_at = ?, last_error = ? WHERE id = ?`),
      getMessage: db.prepare('SELECT * FROM messages WHERE message_id = ?'),
      messagesAbout: db.prepare(`SELECT message_id FROM runs WHERE json_extract(plan, '$.context.artifactId') = ?1
        OR EXISTS (SELECT 1 FROM json_each(runs.plan, '$.items') WHERE json_extract(value, '$.item') = ?1)
        GROUP BY message_id ORDER BY MAX(created_at) DESC LIMIT ?2`),
      rejected: db.prepare(`SELECT * FROM messages WHERE status = 'rejected' AND received_at >= ? ORDER BY received_at, pk LIMIT ?`),
      effectsOfMessage: db.prepare(`SELECT * FROM effects WHERE message_id = ? OR run_id IN (SELECT id FROM runs WHERE message_id = ?) ORDER BY id`),
    };
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
    return { status: 'recorded', runIds, duplicateRuns };
  }

  private insertEffect(e: NewEffect, messageId: string | null, now: number): void {
    this.stmts.insertEffect.run(e.runId, e.runId ? null : messageId, e.peer, JSON.stringify(e.payload), now, now);
  }

  runsInState(states: RunState[], limit: number): Run[] {
    return (this.stmts.runsInState.all(JSON.stringify(states), limit) as RunRow[]).map(toRun);
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
    this.db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...values, runId);
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

  completeEffect(effectId: number, now: number, runPatch?: { runId: string; patch: RunPatch }): void {
    this.db.transaction(() => {
      this.stmts.completeEffect.run(now, effectId);
      if (runPatch) this.patchRun(runPatch.runId, runPatch.patch, now);
    })();
  }

  retryEffect(effectId: number, nextAt: number, error: string): void {
    this.stmts.retryEffect.run(nextAt, error, effectId);
  }

  failEffect(effectId: number, now: number, error: string): void {
    this.stmts.failEffect.run(now, error, effectId);
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
    return (this.stmts.messagesAbout.all(artifact, limit) as Array<{ message_id: string }>).map((r) => r.message_id);
  }

  rejectedMessages(since: number, limit: number): MessageRecord[] {
    return (this.stmts.rejected.all(since, limit) as MessageRow[]).map(toMessage);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
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
    slackTs: row.slack_ts,
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
