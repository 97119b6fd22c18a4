import type { QueryResultRow } from 'pg';
import type { DecisionRecord, EventStatus, HumanAction, MessageRecord, Waiver } from '../../../listener/domain';
import type { JournalStats } from '../../../listener/ports/journal-queries';
import {
  type ActionRow, type DecisionRow, type EffectRow, type MessageRow, type RunRow, type WaiverRow, toAction, toDecision, toEffect,
  toMessage, toRun, toWaiver,
} from '../journal-rows';

export const RUN_COLUMNS = `r.id, r.message_id, p.plan, r.state, r.due_at, r.build_ref, r.build_result, r.outcome, r.error_reason, r.attempts,
  r.created_at, r.updated_at, r.deadline_at, r.triggered_at, r.started_at, r.finished_at, r.reported, r.superseded_by`;
export const EFFECT_COLUMNS = `e.id, e.run_id, e.message_id, e.peer, e.order_key, p.payload, e.state, e.attempts, e.next_at, e.last_error,
  e.in_flight, e.created_at, e.done_at`;

/** One statement on any pooled connection, its rows (errors mapped by the journal). */
export type Read = <R extends QueryResultRow>(sql: string, params?: unknown[]) => Promise<R[]>;

/** What the CLI and the metrics read from the PostgreSQL journal (JournalQueries); reads only, on any connection. */
export class PgJournalQueries {
  constructor(private readonly read: Read) {}

  async eventStatus(messageId: string): Promise<EventStatus | null> {
    const [m] = await this.read<MessageRow>('SELECT * FROM messages WHERE message_id = $1', [messageId]);
    if (!m) return null;
    const runs = await this.read<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs r JOIN run_plans p ON p.id = r.id WHERE r.message_id = $1 ORDER BY r.seq`, [messageId]);
    const effects = await this.read<EffectRow>(`SELECT ${EFFECT_COLUMNS} FROM effects e JOIN effect_payloads p ON p.id = e.id
      WHERE e.message_id = $1 OR e.run_id IN (SELECT id FROM runs WHERE message_id = $1) ORDER BY e.id`, [messageId]);
    return { message: toMessage(m), runs: runs.map((r) => toRun(r)), effects: effects.map(toEffect) };
  }

  async messagesAbout(artifact: string, limit: number): Promise<string[]> {
    const rows = await this.read<{ message_id: string }>(`SELECT message_id FROM run_subjects WHERE subject = $1
      GROUP BY message_id ORDER BY MAX(created_at) DESC LIMIT $2`, [artifact, limit]);
    return rows.map((r) => r.message_id);
  }

  async rejectedMessages(since: number, limit: number): Promise<MessageRecord[]> {
    const rows = await this.read<MessageRow>(`SELECT * FROM messages WHERE status = 'rejected' AND received_at >= $1 ORDER BY received_at, pk LIMIT $2`, [since, limit]);
    return rows.map(toMessage);
  }

  async decisions(product: string | undefined, limit: number): Promise<DecisionRecord[]> {
    const rows = await this.read<DecisionRow>('SELECT * FROM decisions WHERE ($1::text IS NULL OR product = $1) ORDER BY id DESC LIMIT $2', [product ?? null, limit]);
    return rows.map(toDecision);
  }

  async actions(product: string | undefined, limit: number): Promise<HumanAction[]> {
    const rows = await this.read<ActionRow>('SELECT * FROM actions WHERE ($1::text IS NULL OR product = $1) ORDER BY at DESC, id LIMIT $2', [product ?? null, limit]);
    return rows.map(toAction);
  }

  async waivers(product: string | undefined, withRevoked: boolean, limit: number): Promise<Waiver[]> {
    const rows = await this.read<WaiverRow>(`SELECT * FROM waivers WHERE ($1::text IS NULL OR product = $1) AND ($2 OR revoked_at IS NULL)
      ORDER BY created_at DESC LIMIT $3`, [product ?? null, withRevoked, limit]);
    return rows.map(toWaiver);
  }

  async recentMessages(limit: number, status?: MessageRecord['status']): Promise<MessageRecord[]> {
    const rows = await this.read<MessageRow>(`SELECT * FROM messages WHERE ($1::text IS NULL OR status = $1) ORDER BY received_at DESC, pk DESC LIMIT $2`,
      [status ?? null, limit]);
    return rows.map(toMessage);
  }

  async stats(now: number): Promise<JournalStats> {
    const [byState, pending, oldest] = await Promise.all([
      this.read<{ state: string; n: number }>('SELECT state, COUNT(*)::int AS n FROM runs GROUP BY state'),
      this.read<{ peer: string; n: number }>(`SELECT peer, COUNT(*)::int AS n FROM effects WHERE state = 'pending' GROUP BY peer`),
      this.read<{ t: string | null; backlog: number }>(`SELECT (SELECT MIN(created_at) FROM runs WHERE state <> 'finished') AS t,
        (SELECT COUNT(*)::int FROM runs WHERE state IN ('pending', 'triggering')) AS backlog`),
    ]);
    const t = oldest[0].t === null ? null : Number(oldest[0].t);
    return {
      runsByState: Object.fromEntries(byState.map((r) => [r.state, r.n])),
      effectsPending: Object.fromEntries(pending.map((r) => [r.peer, r.n])),
      oldestUnfinishedRunAgeSeconds: t === null ? 0 : Math.max(0, (now - t) / 1000),
      backlog: oldest[0].backlog,
    };
  }
}
