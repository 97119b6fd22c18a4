/**
 * Rows as the SQL journals store them, and the domain records they become. Shared by the SQLite
 * and PostgreSQL adapters so the two read their tables the same way.
 */
import type {
  DecisionRecord, Effect, HumanAction, Waiver, GateReason, KnownResult, MessageRecord, Peer, Run, RunPatch, RunPlan, RunState,
} from '../../listener/domain';

export interface RunRow {
  id: string; message_id: string; plan: string; state: string; due_at: number | string | null; build_ref: string | null;
  build_result: string | null; outcome: string | null; error_reason: string | null; attempts: number;
  created_at: number | string; updated_at: number | string; deadline_at: number | string | null; triggered_at: number | string | null;
  started_at: number | string | null; finished_at: number | string | null; reported: string | null; superseded_by: string | null;
}

export interface EffectRow {
  id: number | string; run_id: string | null; message_id: string | null; peer: string; order_key: string; payload: string; state: string;
  attempts: number; next_at: number | string; last_error: string | null; in_flight: number | boolean; created_at: number | string; done_at: number | string | null;
}

export interface MessageRow { message_id: string; topic: string; status: string; reasons: string; received_at: number | string; body: string }

export interface DecisionRow { gate_key: string; decision: string; mode: string; action: string; reasons: string; created_at: number | string }

export interface ActionRow {
  id: string; kind: string; product: string; gate_key: string | null; run_id: string | null; waiver_id: string | null;
  reason: string | null; who: string; via: string; at: number | string;
}

export interface WaiverRow {
  id: string; product: string; item: string; type: string; testcase: string; scenario: string | null; reason: string; who: string;
  created_at: number | string; revoked_at: number | string | null; revoked_by: string | null;
}

export function toAction(r: ActionRow): HumanAction {
  return {
    id: r.id, kind: r.kind as HumanAction['kind'], product: r.product, who: r.who, via: r.via as HumanAction['via'], at: num(r.at),
    ...(r.gate_key ? { gateKey: r.gate_key } : {}), ...(r.run_id ? { runId: r.run_id } : {}),
    ...(r.waiver_id ? { waiverId: r.waiver_id } : {}), ...(r.reason ? { reason: r.reason } : {}),
  };
}

export function toWaiver(r: WaiverRow): Waiver {
  return {
    id: r.id, product: r.product, item: r.item, type: r.type, testcase: r.testcase, scenario: r.scenario, reason: r.reason, who: r.who,
    createdAt: num(r.created_at), revokedAt: numOrNull(r.revoked_at), revokedBy: r.revoked_by,
  };
}

export interface ResultRow {
  seq: number | string; item: string; type: string; testcase: string; scenario: string | null; outcome: string;
  ref_url: string | null; message_id: string | null; created_at: number | string;
}

/** PostgreSQL returns BIGINT as text; both stores keep epoch milliseconds. */
function num(v: number | string): number {
  return typeof v === 'number' ? v : Number(v);
}

function numOrNull(v: number | string | null): number | null {
  return v === null ? null : num(v);
}

/** The phase a state puts a run in: which claim picks it up. */
export function phaseOf(state: RunState): 'dispatch' | 'track' | null {
  if (state === 'pending' || state === 'triggering') return 'dispatch';
  if (state === 'queued' || state === 'running') return 'track';
  return null;
}

export const PATCH_COLUMNS: Record<keyof RunPatch, string> = {
  state: 'state', buildRef: 'build_ref', buildResult: 'build_result', outcome: 'outcome',
  errorReason: 'error_reason', deadlineAt: 'deadline_at', nextPollAt: 'due_at', attempts: 'attempts',
  triggeredAt: 'triggered_at', startedAt: 'started_at', finishedAt: 'finished_at',
};

/** The column values a patch sets, phase included; `buildRef` as JSON. */
export function patchValues(patch: RunPatch): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [key, column] of Object.entries(PATCH_COLUMNS) as Array<[keyof RunPatch, string]>) {
    if (!(key in patch)) continue;
    const v = patch[key];
    out.push([column, key === 'buildRef' ? (v == null ? null : JSON.stringify(v)) : v]);
  }
  if (patch.state !== undefined) {
    out.push(['phase', phaseOf(patch.state)]);
    if (patch.state === 'finished') out.push(['due_at', null]);
  }
  return out;
}

export function toRun(row: RunRow, claimedFrom?: RunState): Run {
  const plan = JSON.parse(row.plan) as RunPlan;
  return {
    ...plan,
    messageId: row.message_id,
    state: row.state as RunState,
    buildRef: row.build_ref ? JSON.parse(row.build_ref) : null,
    buildResult: row.build_result,
    outcome: row.outcome,
    errorReason: row.error_reason,
    attempts: num(row.attempts),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
    deadlineAt: numOrNull(row.deadline_at),
    nextPollAt: numOrNull(row.due_at),
    triggeredAt: numOrNull(row.triggered_at),
    startedAt: numOrNull(row.started_at),
    finishedAt: numOrNull(row.finished_at),
    reported: row.reported ? JSON.parse(row.reported) : null,
    supersededBy: row.superseded_by,
    ...(claimedFrom ? { claimedFrom } : {}),
  };
}

export function toEffect(row: EffectRow): Effect {
  return {
    id: num(row.id),
    runId: row.run_id,
    messageId: row.message_id,
    peer: row.peer as Peer,
    orderKey: row.order_key,
    payload: JSON.parse(row.payload),
    state: row.state as Effect['state'],
    attempts: num(row.attempts),
    nextAt: num(row.next_at),
    lastError: row.last_error,
    interrupted: row.in_flight === 1 || row.in_flight === true,
    createdAt: num(row.created_at),
    doneAt: numOrNull(row.done_at),
  };
}

export function toMessage(m: MessageRow): MessageRecord {
  return {
    messageId: m.message_id, topic: m.topic, status: m.status as MessageRecord['status'],
    reasons: JSON.parse(m.reasons) as string[], receivedAt: num(m.received_at), body: m.body,
  };
}

export function toDecision(d: DecisionRow): DecisionRecord {
  return {
    gateKey: d.gate_key, decision: d.decision as 'pass' | 'fail', mode: d.mode, action: d.action,
    reasons: JSON.parse(d.reasons) as GateReason[], createdAt: num(d.created_at),
  };
}

export function toResult(r: ResultRow): KnownResult {
  return {
    item: r.item, type: r.type, testcase: r.testcase, scenario: r.scenario, outcome: r.outcome, refUrl: r.ref_url,
    messageId: r.message_id, seq: num(r.seq), createdAt: num(r.created_at),
  };
}

/** What `cvp status NVR` finds a run by: its artifact id and every item it reports on. */
export function subjectsOf(plan: RunPlan): string[] {
  const out = new Set<string>();
  if (plan.context.artifactId) out.add(plan.context.artifactId);
  for (const i of [...plan.items, ...(plan.notRebuilt ?? []), ...(plan.groupItem ? [plan.groupItem] : [])]) {
    out.add(i.item);
    if (typeof i.data.nvr === 'string' && i.data.nvr) out.add(i.data.nvr);
  }
  return [...out];
}

/** The thread key of an effect that may open an event's Slack thread, and its channel. */
export function threadOpened(payload: Effect['payload']): { thread: string; channel: string } | null {
  return payload.kind === 'notice' && payload.role === 'open' ? { thread: payload.thread, channel: payload.notice.channel ?? '' } : null;
}
