import type { Alarm, DecisionRecord, HumanAction, MessageRecord, Waiver } from '../../listener/domain';
import { type Agreement, productOfGate, shadowAgreement } from '../../listener/people/agreement';
import type { Clock } from '../../listener/ports';
import type { Journal } from '../../listener/ports/journal';
import type { JournalQueries } from '../../listener/ports/journal-queries';
import type { RunWatch, TopicWatch, WatchdogState } from '../../listener/watchdog';

export interface DashboardSources {
  queries: Pick<JournalQueries, 'recentMessages' | 'eventStatus' | 'decisions' | 'actions' | 'waivers'>;
  journal: Pick<Journal, 'alarms'>;
  /** The watchdog's last look, when it runs. */
  watchdog?: () => WatchdogState | null;
  clock: Clock;
  /** The shadow agreement's window (default 30 days). */
  agreementWindowMs?: number;
  /** How many recent events, decisions, waivers and dead letters are shown (default 25). */
  limit?: number;
}

export interface RunRow {
  id: string;
  job: string;
  rule: string;
  state: string;
  outcome: string | null;
  buildUrl: string | null;
  reason: string | null;
  items: string[];
  createdAt: number;
  finishedAt: number | null;
}

export interface EventRow {
  messageId: string;
  topic: string;
  status: MessageRecord['status'];
  receivedAt: number;
  artifact: string | null;
  runs: RunRow[];
}

export interface DecisionRow extends DecisionRecord {
  product: string;
  artifactType: string;
  artifactId: string;
  /** What people did about this gate, oldest first. */
  actions: HumanAction[];
}

export interface DashboardModel {
  generatedAt: number;
  events: EventRow[];
  decisions: DecisionRow[];
  waivers: Waiver[];
  agreement: Agreement;
  agreementWindowMs: number;
  deadLetters: MessageRecord[];
  watchdog: { running: boolean; checkedAt: number | null; alarms: Alarm[]; topics: TopicWatch[]; runs: RunWatch[] };
}

const DAY = 86_400_000;

/** What the dashboard shows, read from the journal's queries (a read replica would do). */
export async function dashboardModel(s: DashboardSources): Promise<DashboardModel> {
  const now = s.clock.now();
  const limit = s.limit ?? 25;
  const windowMs = s.agreementWindowMs ?? 30 * DAY;
  const [recent, deadLetters, decisions, actions, waivers, alarms] = await Promise.all([
    s.queries.recentMessages(limit * 4), s.queries.recentMessages(limit, 'rejected'),
    s.queries.decisions(undefined, 10_000), s.queries.actions(undefined, 10_000), s.queries.waivers(undefined, true, limit), s.journal.alarms(),
  ]);
  const events: EventRow[] = [];
  for (const m of recent.filter((x) => x.status !== 'rejected').slice(0, limit)) {
    const status = await s.queries.eventStatus(m.messageId);
    const runs = status?.runs ?? [];
    events.push({
      messageId: m.messageId, topic: m.topic, status: m.status, receivedAt: m.receivedAt,
      artifact: runs[0]?.context.artifactId ?? null,
      runs: runs.map((r) => ({
        id: r.id, job: r.job, rule: r.rule, state: r.state, outcome: r.outcome, buildUrl: r.buildRef?.url ?? null, reason: r.errorReason,
        items: r.items.map((i) => i.item), createdAt: r.createdAt, finishedAt: r.finishedAt,
      })),
    });
  }
  const byGate = new Map<string, HumanAction[]>();
  for (const a of [...actions].reverse()) if (a.gateKey) byGate.set(a.gateKey, [...(byGate.get(a.gateKey) ?? []), a]);
  const state = s.watchdog?.() ?? null;
  return {
    generatedAt: now,
    events,
    decisions: decisions.slice(0, limit).map((d) => {
      const [, artifactType = '', ...rest] = d.gateKey.split('|');
      return { ...d, product: productOfGate(d.gateKey), artifactType, artifactId: rest.join('|'), actions: byGate.get(d.gateKey) ?? [] };
    }),
    waivers,
    agreement: shadowAgreement(decisions, actions, now - windowMs),
    agreementWindowMs: windowMs,
    deadLetters,
    watchdog: { running: !!s.watchdog, checkedAt: state?.checkedAt ?? null, alarms: state?.alarms ?? alarms, topics: state?.topics ?? [], runs: state?.runs ?? [] },
  };
}
