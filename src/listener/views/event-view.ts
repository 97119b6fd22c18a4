import type { Effect, EventStatus } from '../domain';

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
  /** The event's own effects, of no run (a dead letter, say). */
  effects: EffectView[];
}

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : iso(ms));

function effectView(e: Effect): EffectView {
  return {
    peer: e.peer,
    what: e.payload.kind === 'result' ? `${e.payload.result.outcome} ${String(e.payload.result.data.item)}`
      : e.payload.kind === 'notice' ? e.payload.role : e.payload.kind === 'publish' ? e.payload.destination : e.payload.url,
    state: e.state,
    attempts: e.attempts,
    lastError: e.lastError,
    createdAt: iso(e.createdAt),
    doneAt: isoOrNull(e.doneAt),
  };
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
    createdAt: iso(run.createdAt),
    triggeredAt: isoOrNull(run.triggeredAt),
    startedAt: isoOrNull(run.startedAt),
    finishedAt: isoOrNull(run.finishedAt),
    effects: s.effects.filter((e) => e.runId === run.id).map(effectView),
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
    effects: s.effects.filter((e) => e.runId === null).map(effectView),
  };
}

/** 2026-12-06 14:12:42.695 (UTC), or a dash where the step has not happened. */
const WHEN_WIDTH = 23;
const when = (isoTime: string | null): string => (isoTime ? isoTime.replace('T', ' ').replace(/Z$/, '') : '-').padEnd(WHEN_WIDTH);

function effectStep(prefix: string, e: EffectView): { at: string | null; what: string } {
  const effect = `${prefix}${e.peer} ${e.what}`;
  if (e.state === 'done') return { at: e.doneAt, what: `${effect} delivered` };
  if (e.state === 'failed') return { at: e.doneAt, what: `${effect} FAILED for good: ${e.lastError ?? 'no reason given'}` };
  return { at: null, what: `${effect} pending${e.attempts ? ` (${e.attempts} attempt(s), last error: ${e.lastError ?? 'none'})` : ''}` };
}

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
    // Where the build is, on the triggered line, or here when the journal has no time for that.
    const build = !run.triggeredAt && run.buildUrl ? ` (build ${run.buildUrl})` : '';
    if (run.finishedAt || run.state === 'finished') {
      const result = [run.outcome, run.buildResult && `build ${run.buildResult}`, run.reason].filter(Boolean).join(', ');
      steps.push({ at: run.finishedAt, what: `${name} finished${result ? ` ${result}` : ''}${build}` });
    } else {
      steps.push({ at: null, what: `${name} ${run.state}${build}` });
    }
    for (const e of run.effects) steps.push(effectStep(`${name} `, e));
  }
  for (const e of view.effects) steps.push(effectStep('', e));
  // A stable sort: steps without a time keep their order, after every timed one.
  const timed = steps.filter((s) => s.at !== null).sort((a, b) => a.at!.localeCompare(b.at!));
  lines.push(`  ${'WHEN (UTC)'.padEnd(WHEN_WIDTH)}  STEP`);
  for (const s of [...timed, ...steps.filter((x) => x.at === null)]) lines.push(`  ${when(s.at)}  ${s.what}`);
  return lines;
}
