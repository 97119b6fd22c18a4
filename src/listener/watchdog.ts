/**
 * The watchdog: a listener that silently stops receiving is the failure teams fear most. Per
 * topic it knows the longest silence expected, per rule how long a run may take; past either it
 * raises an alarm (once, however many daemons watch: the journal's setAlarm is conditional) with a
 * Slack notice, and clears it once, with another, when traffic resumes or the run ends.
 */
import { randomUUID } from 'node:crypto';
import type { Alarm, Change, NewEffect } from './domain';
import { emptyChange } from './domain';
import { alarmNotice } from './effects/notices';
import { threadOrderKey } from './effects/reporter';
import type { Clock, Logger } from './ports';
import type { Journal } from './ports/journal';

export interface WatchdogOptions {
  /** Topic → the longest silence expected (ms). */
  silence: Map<string, number>;
  /** Rule → its timeout (ms): its oldest unfinished run is stuck once older than this plus `graceMs`. */
  runTimeouts: Map<string, number>;
  graceMs: number;
  intervalMs: number;
  /** Where its notices go (default: the notifier's channel). */
  channel?: string;
}

export interface WatchdogDeps extends WatchdogOptions {
  journal: Pick<Journal, 'lastReceived' | 'oldestUnfinished' | 'setAlarm' | 'alarms'>;
  clock: Clock;
  log: Logger;
  hasNotifier: boolean;
  newKey?: () => string;
}

export interface TopicWatch {
  topic: string;
  /** When the topic last delivered a message (epoch ms); null if never (within the journal's retention). */
  lastReceived: number | null;
  /** How long it has been silent: since its last message, or since this daemon started watching. */
  silenceMs: number;
  maxSilenceMs: number;
  over: boolean;
}

export interface RunWatch {
  rule: string;
  runId: string;
  ageMs: number;
  limitMs: number;
  over: boolean;
}

export interface WatchdogState {
  checkedAt: number;
  topics: TopicWatch[];
  runs: RunWatch[];
  /** Every alarm in the journal (raised by any daemon), raised or cleared. */
  alarms: Alarm[];
}

const SILENCE = 'silence:';
const STUCK = 'run:';

/** 2h 5m, 45s: a span for people. */
export function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', !d && !h && (s % 60 || !m) ? `${s % 60}s` : ''];
  return parts.filter(Boolean).join(' ');
}

const iso = (ms: number): string => new Date(ms).toISOString();

interface Wanted { key: string; raised: boolean; detail: string; resumed: string }

export class Watchdog {
  private readonly startedAt: number;
  private last: WatchdogState | null = null;
  private readonly newKey: () => string;

  constructor(private readonly deps: WatchdogDeps) {
    this.startedAt = deps.clock.now();
    this.newKey = deps.newKey ?? randomUUID;
  }

  /** What the last pass saw (null before the first): for /readyz and the metrics, without a query. */
  state(): WatchdogState | null {
    return this.last;
  }

  get intervalMs(): number {
    return this.deps.intervalMs;
  }

  /** One look: raises or clears what changed; returns how many alarms this process changed. */
  async runOnce(): Promise<number> {
    const { journal, clock } = this.deps;
    const now = clock.now();
    const lastSeen = this.deps.silence.size ? await journal.lastReceived([...this.deps.silence.keys()]) : {};
    const topics: TopicWatch[] = [...this.deps.silence].map(([topic, max]) => {
      const last = lastSeen[topic] ?? null;
      const silenceMs = now - (last ?? this.startedAt);
      return { topic, lastReceived: last, silenceMs, maxSilenceMs: max, over: silenceMs > max };
    });
    const oldest = this.deps.runTimeouts.size ? await journal.oldestUnfinished() : [];
    const runs: RunWatch[] = [];
    for (const o of oldest) {
      const timeout = this.deps.runTimeouts.get(o.rule);
      if (timeout === undefined) continue;
      const limitMs = timeout + this.deps.graceMs;
      runs.push({ rule: o.rule, runId: o.runId, ageMs: now - o.createdAt, limitMs, over: now - o.createdAt > limitMs });
    }
    const wanted: Wanted[] = [
      ...topics.map((t) => ({
        key: `${SILENCE}${t.topic}`, raised: t.over,
        detail: `no message on ${t.topic} for ${span(t.silenceMs)} (expected within ${span(t.maxSilenceMs)}); ${t.lastReceived === null ? `none since this daemon started at ${iso(this.startedAt)}` : `the last at ${iso(t.lastReceived)}`}`,
        resumed: `${t.topic} speaks again${t.lastReceived === null ? '' : `: a message at ${iso(t.lastReceived)}`}`,
      })),
      ...[...this.deps.runTimeouts.keys()].map((rule) => {
        const r = runs.find((x) => x.rule === rule);
        return {
          key: `${STUCK}${rule}`, raised: !!r?.over,
          detail: r ? `run ${r.runId} of rule ${rule} has not finished after ${span(r.ageMs)} (its timeout and grace: ${span(r.limitMs)}): is its executor reachable?` : '',
          resumed: r ? `rule ${rule}'s oldest unfinished run is within its timeout again (run ${r.runId})` : `rule ${rule} has no stuck run any more`,
        };
      }),
    ];
    const known = new Map((await journal.alarms()).map((a) => [a.key, a]));
    // An alarm about a topic or rule no longer watched would stay raised for ever: cleared.
    for (const a of known.values()) {
      if (a.raised && (a.key.startsWith(SILENCE) || a.key.startsWith(STUCK)) && !wanted.some((w) => w.key === a.key)) {
        wanted.push({ key: a.key, raised: false, detail: '', resumed: `${a.key} is no longer watched` });
      }
    }
    let changed = 0;
    for (const w of wanted) {
      const current = known.get(w.key);
      if ((current?.raised ?? false) === w.raised) continue;
      const alarm: Alarm = { key: w.key, raised: w.raised, since: now, detail: w.raised ? w.detail : w.resumed };
      if (await journal.setAlarm(alarm, this.said(alarm, current))) {
        changed += 1;
        const log = w.raised ? this.deps.log.warn.bind(this.deps.log) : this.deps.log.info.bind(this.deps.log);
        log({ alarm: alarm.key, detail: alarm.detail }, w.raised ? 'watchdog alarm raised' : 'watchdog alarm cleared');
      }
    }
    this.last = { checkedAt: now, topics, runs, alarms: changed ? await journal.alarms() : [...known.values()] };
    return changed;
  }

  /** The notice of a change: a raised alarm opens a thread of its own; its clearing replies in it. */
  private said(alarm: Alarm, before: Alarm | undefined): Change {
    const change = emptyChange();
    if (!this.deps.hasNotifier) return change;
    const notice = { ...alarmNotice(alarm, before?.since ?? null, this.deps.channel), key: this.newKey() };
    const thread = `watchdog|${alarm.key}|${alarm.raised ? alarm.since : before?.since ?? alarm.since}`;
    const effect: NewEffect = alarm.raised
      ? { peer: 'slack', runId: null, orderKey: threadOrderKey(thread, notice.channel), payload: { kind: 'notice', role: 'open', thread, notice, reply: notice } }
      : { peer: 'slack', runId: null, orderKey: threadOrderKey(thread, notice.channel), payload: { kind: 'notice', role: 'reply', thread, notice } };
    change.effects.push(effect);
    return change;
  }
}
