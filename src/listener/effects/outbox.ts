import { CvpError, describeError, isPermanent } from '../../errors';
import { backoff } from '../backoff';
import type { Effect, NoticePayload, Peer, Settlement } from '../domain';
import type { Bus, Clock, Logger, Metrics, Notice, Notifier, PostedNotice, ReleaseHook, ResultSink } from '../ports';
import type { Journal } from '../ports/journal';
import { shortenNotice } from './notices';

export interface OutboxDeps {
  journal: Journal;
  clock: Clock;
  log: Logger;
  owner: string;
  leaseMs: number;
  results?: ResultSink;
  notifier?: Notifier;
  bus?: Pick<Bus, 'publish'>;
  release?: ReleaseHook;
  random?: () => number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Effects delivered at once per peer. */
  concurrency?: number;
  metrics?: Metrics;
}

/** How far back a notice is looked for in its channel's history: it was posted after it was recorded. */
const LOOKBACK_MS = 60_000;

type Done = Extract<Settlement, { state: 'done' }>['thread'];

/**
 * Delivers the journal's effects, one worker per peer, so that one peer's outage never holds up
 * another. Transient failures back off with jitter; permanent ones are recorded and left. An
 * effect whose earlier attempt may have reached its peer (the process died, or the answer was
 * lost) is looked up there before it is carried out again: exactly once, Slack included.
 */
export class Outbox {
  constructor(private readonly deps: OutboxDeps) {}

  peers(): Peer[] {
    const peers: Peer[] = [];
    if (this.deps.results) peers.push('resultsdb');
    if (this.deps.notifier) peers.push('slack');
    if (this.deps.bus) peers.push('bus');
    if (this.deps.release) peers.push('release');
    return peers;
  }

  async runOnce(peer: Peer): Promise<number> {
    const { journal, clock, owner, leaseMs } = this.deps;
    // Claimed (an attempt counted, in flight) before the calls: after a crash, an effect found in
    // flight may have reached its peer.
    const due = await journal.claimEffects(peer, { owner, now: clock.now(), leaseMs }, this.deps.concurrency ?? 16);
    if (!due.length) return 0;
    const settled = await Promise.all(due.map((e) => this.deliver(e)));
    // One commit for the whole batch: a commit per effect would hold up everything else.
    const now = clock.now();
    await journal.settleEffects(owner, settled, now);
    // Counted once recorded, so the metrics never run ahead of the journal.
    due.forEach((e, i) => {
      if (settled[i].state === 'done') this.deps.metrics?.effectDelivered(e.peer, Math.max(0, now - e.createdAt) / 1000);
      else this.deps.metrics?.effectFailed(e.peer, settled[i].state === 'failed');
    });
    return due.length;
  }

  nextDue(peer: Peer): Promise<number | null> {
    return this.deps.journal.nextEffectDue(peer, this.deps.clock.now());
  }

  private async deliver(effect: Effect): Promise<Settlement> {
    const { clock, log } = this.deps;
    try {
      const thread = await this.carryOut(effect);
      log.debug({ effectId: effect.id, runId: effect.runId, peer: effect.peer }, 'effect delivered');
      return { id: effect.id, state: 'done', ...(thread ? { thread } : {}) };
    } catch (err) {
      const why = describeError(err);
      if (isPermanent(err)) {
        log.error({ effectId: effect.id, runId: effect.runId, peer: effect.peer, err: why }, 'effect refused for good; recorded, not retried');
        return { id: effect.id, state: 'failed', error: why };
      }
      const delay = Math.max(
        backoff(effect.attempts, this.deps.random ?? Math.random, this.deps.baseDelayMs ?? 1_000, this.deps.maxDelayMs ?? 300_000),
        err instanceof CvpError ? err.retryAfterMs ?? 0 : 0);
      log.warn({ effectId: effect.id, runId: effect.runId, peer: effect.peer, err: why, retryInMs: delay }, 'effect not delivered; will retry');
      return { id: effect.id, state: 'retry', nextAt: clock.now() + delay, error: why };
    }
  }

  /** An earlier attempt may have reached the peer: the process died during it, or its answer was lost. */
  private mayHaveLanded(effect: Effect): boolean {
    return effect.interrupted || (effect.attempts > 1 && /^PEER_OUTCOME_UNKNOWN/.test(effect.lastError ?? ''));
  }

  private async carryOut(effect: Effect): Promise<Done | undefined> {
    const p = effect.payload;
    switch (p.kind) {
      case 'result': {
        const sink = this.deps.results!;
        if (effect.attempts > 1 && effect.runId) {
          // An earlier attempt may have been stored with its answer lost (or the process died): look before writing twice.
          const stored = await sink.findByRun(effect.runId, p.result.testcase.name, String(p.result.data.item));
          if (stored.some((r) => r.outcome === p.result.outcome)) return undefined;
        }
        await sink.submit(p.result);
        return undefined;
      }
      case 'notice':
        return this.notice(effect, p);
      case 'publish':
        await this.deps.bus!.publish(p.destination, p.body, p.headers);
        return undefined;
      case 'http':
        await this.deps.release!.call(p.url, p.method, p.body, p.idempotencyKey);
        return undefined;
    }
  }

  /**
   * A thread's opener posts its root; every other notice replies in the thread the root opened
   * (recorded earlier with the same order key, so it is settled first). Each carries its key in
   * Slack's metadata and is looked up before it is posted again.
   */
  private async notice(effect: Effect, p: NoticePayload): Promise<Done | undefined> {
    const notifier = this.deps.notifier!;
    const channel = p.notice.channel ?? '';
    const thread = effect.thread !== undefined ? effect.thread : await this.deps.journal.thread(p.thread, channel);
    const opens = p.role === 'open' && thread?.opener === effect.id;
    const notice: Notice = p.role === 'open' && !opens ? { ...p.reply } : { ...p.notice };
    if (!opens && thread?.ts) notice.threadTs = thread.ts;
    const done = (posted: PostedNotice): Done | undefined =>
      opens && posted.ts ? { thread: p.thread, channel, ts: posted.ts } : undefined;
    if (notice.key && this.mayHaveLanded(effect)) {
      const found = await notifier.find(notice.key, notice.channel ?? '', { threadTs: notice.threadTs, since: effect.createdAt - LOOKBACK_MS });
      if (found) {
        this.deps.log.info({ effectId: effect.id, runId: effect.runId }, 'notice found in Slack: it was posted before; not posting it again');
        return done(found);
      }
    }
    return done(await this.post(notice));
  }

  /** A notice Slack refuses for its size is posted shorter, never dropped. */
  private async post(notice: Notice): Promise<PostedNotice> {
    let current = notice;
    for (let level = 1; ; level++) {
      try {
        return await this.deps.notifier!.post(current);
      } catch (err) {
        const tooLong = err instanceof CvpError && err.code === 'NOTICE_TOO_LONG';
        const shorter = tooLong ? shortenNotice(notice, level) : null;
        if (!shorter) throw err;
        this.deps.log.warn({ level, err: describeError(err) }, 'Slack refused the notice for its size; posting it shorter');
        current = shorter;
      }
    }
  }
}
