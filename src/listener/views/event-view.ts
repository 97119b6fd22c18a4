import type { EventStatus } from '../domain';

export interface RunView {
  id: string;
  rule: string;
  job: string;
  state: string;
  outcome: string | null;
  buildResult: string | null;
  buildUrl: string | null;
  reason: string | null;
  items: string[];
  effects: Array<{ peer: string; what: string; state: string; attempts: number; lastError: string | null }>;
}

export interface EventView {
  messageId: string;
  topic: string;
  status: string;
  reasons: string[];
  receivedAt: string;
  done: boolean;
  passed: boolean;
  runs: RunView[];
}

/** What became of one event, in the shape `cvp status`, `cvp trigger --wait` and GET /events/:id show. */
export function eventView(s: EventStatus): EventView {
  const runs: RunView[] = s.runs.map((run) => ({
    id: run.id,
    rule: run.rule,
    job: run.job,
    state: run.state,
    outcome: run.outcome,
    buildResult: run.buildResult,
    buildUrl: run.buildRef?.url ?? null,
    reason: run.errorReason,
    items: run.items.map((i) => i.item),
    effects: s.effects.filter((e) => e.runId === run.id).map((e) => ({
      peer: e.peer,
      what: e.payload.kind === 'result' ? `${e.payload.result.outcome} ${String(e.payload.result.data.item)}`
        : e.payload.kind === 'notice' ? e.payload.role : e.payload.kind === 'publish' ? e.payload.destination : e.payload.url,
      state: e.state,
      attempts: e.attempts,
      lastError: e.lastError,
    })),
  }));
  const done = s.message.status !== 'routed' || runs.every((r) => r.state === 'finished');
  return {
    messageId: s.message.messageId,
    topic: s.message.topic,
    status: s.message.status,
    reasons: s.message.reasons,
    receivedAt: new Date(s.message.receivedAt).toISOString(),
    done,
    passed: s.message.status === 'routed' && done && runs.every((r) => r.outcome === 'PASSED'),
    runs,
  };
}
