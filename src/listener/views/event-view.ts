import type { EventStatus } from '../domain';

export interface EffectView {
  peer: string;
  what: string;
  state: string;
  attempts: number;
  lastError: string | null;
  /** When the effect was committed (ISO 8601), and when it was delivered or given up (null while pending). */
  createdAt: string;
  doneAt: string | null;
}

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
  /** When each step happened (ISO 8601): planned, build accepted, build started, run ended; null until it has. */
  createdAt: string;
  triggeredAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  effects: EffectView[];
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

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : iso(ms));

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
    createdAt: iso(run.createdAt),
    triggeredAt: isoOrNull(run.triggeredAt),
    startedAt: isoOrNull(run.startedAt),
    finishedAt: isoOrNull(run.finishedAt),
    effects: s.effects.filter((e) => e.runId === run.id).map((e) => ({
      peer: e.peer,
      what: e.payload.kind === 'result' ? `${e.payload.result.outcome} ${String(e.payload.result.data.item)}`
        : e.payload.kind === 'notice' ? e.payload.role : e.payload.kind === 'publish' ? e.payload.destination : e.payload.url,
      state: e.state,
      attempts: e.attempts,
      lastError: e.lastError,
      createdAt: iso(e.createdAt),
      doneAt: isoOrNull(e.doneAt),
    })),
  }));
  const done = s.message.status !== 'routed' || runs.every((r) => r.state === 'finished');
  return {
    messageId: s.message.messageId,
    topic: s.message.topic,
    status: s.message.status,
    reasons: s.message.reasons,
    receivedAt: iso(s.message.receivedAt),
    done,
    passed: s.message.status === 'routed' && done && runs.every((r) => r.outcome === 'PASSED'),
    runs,
  };
}

/** 2026-12-06 14:12:42.695 (UTC), or a dash where the step has not happened. */
const WHEN_WIDTH = 23;
const when = (isoTime: string | null): string => (isoTime ? isoTime.replace('T', ' ').replace(/Z$/, '') : '-').padEnd(WHEN_WIDTH);

/**
 * The same view for a person: one line per step, in the order they happened (times in UTC):
 * received, then per run planned, triggered, started, finished, and each effect delivered; what
 * has not happened yet comes last.
 */
export function eventTimeline(view: EventView): string[] {
  const verdict = view.status !== 'routed' ? view.status : !view.done ? 'in progress' : view.passed ? 'passed' : 'not passed';
  const lines = [`event ${view.messageId} (${view.topic}): ${verdict}`];
  for (const r of view.reasons) lines.push(`  ${r}`);
  const steps: Array<{ at: string | null; what: string }> = [{ at: view.receivedAt, what: `received (${view.status})` }];
  for (const run of view.runs) {
    const name = `run ${run.id.slice(0, 8)}`;
    steps.push({ at: run.createdAt, what: `${name} planned: ${run.job} (rule ${run.rule}) for ${run.items.join(', ') || 'the artifact'}` });
    if (run.triggeredAt) steps.push({ at: run.triggeredAt, what: `${name} triggered${run.buildUrl ? `: ${run.buildUrl}` : ''}` });
    if (run.startedAt) steps.push({ at: run.startedAt, what: `${name} started` });
    if (run.finishedAt || run.state === 'finished') {
      const result = [run.outcome, run.buildResult && `build ${run.buildResult}`, run.reason].filter(Boolean).join(', ');
      steps.push({ at: run.finishedAt, what: `${name} finished${result ? ` ${result}` : ''}` });
    } else {
      steps.push({ at: null, what: `${name} ${run.state}` });
    }
    for (const e of run.effects) {
      const effect = `${e.peer} ${e.what}`;
      if (e.state === 'done') steps.push({ at: e.doneAt, what: `${name} ${effect} delivered` });
      else if (e.state === 'failed') steps.push({ at: e.doneAt, what: `${name} ${effect} FAILED for good: ${e.lastError ?? 'no reason given'}` });
      else steps.push({ at: null, what: `${name} ${effect} pending${e.attempts ? ` (${e.attempts} attempt(s), last error: ${e.lastError ?? 'none'})` : ''}` });
    }
  }
  // A stable sort: steps without a time keep their order, after every timed one.
  const timed = steps.filter((s) => s.at !== null).sort((a, b) => a.at!.localeCompare(b.at!));
  lines.push(`  ${'WHEN (UTC)'.padEnd(WHEN_WIDTH)}  STEP`);
  for (const s of [...timed, ...steps.filter((x) => x.at === null)]) lines.push(`  ${when(s.at)}  ${s.what}`);
  return lines;
}
