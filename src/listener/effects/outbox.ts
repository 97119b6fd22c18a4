import { backoff } from '../backoff';
import { CvpError, describeError, isPermanent, permanentError } from '../../errors';
import type { Journal } from '../ports/journal';
import type { Effect, Peer, Settlement } from '../domain';
import type { Bus, Clock, Logger, Metrics, Notifier, ReleaseHook, ResultSink } from '../ports';

export interface OutboxDeps {
  journal: Journal;
  clock: Clock;
  log: Logger;
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

/**
 * Delivers the journal's effects, one worker per peer, so that one peer's outage never holds up
 * another. Transient failures back off with jitter; permanent ones are recorded and left.
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
    const due = this.deps.journal.dueEffects(peer, this.deps.clock.now(), this.deps.concurrency ?? 8);
    if (!due.length) return 0;
    // Recorded before the calls: after a crash, an effect found in flight may have reached its peer.
    this.deps.journal.claimEffects(due.map((e) => e.id));
    const settled = await Promise.all(due.map((e) => this.deliver(e)));
    // One commit for the whole batch: a commit per effect would hold up everything else on the loop.
    const now = this.deps.clock.now();
    this.deps.journal.settleEffects(settled, now);
    // Counted once recorded, so the metrics never run ahead of the journal.
    due.forEach((e, i) => {
      if (settled[i].state === 'done') this.deps.metrics?.effectDelivered(e.peer, Math.max(0, now - e.createdAt) / 1000);
      else this.deps.metrics?.effectFailed(e.peer, settled[i].state === 'failed');
    });
    return due.length;
  }

  nextDue(peer: Peer): number | null {
    return this.deps.journal.nextEffectAt(peer);
  }

  private async deliver(effect: Effect): Promise<Settlement> {
    const { clock, log } = this.deps;
    try {
      const after = await this.carryOut(effect);
      log.debug({ effectId: effect.id, runId: effect.runId, peer: effect.peer }, 'effect delivered');
      return { id: effect.id, state: 'done', thread: after?.thread };
    } catch (err) {
      const why = describeError(err);
      if (isPermanent(err)) {
        log.error({ effectId: effect.id, runId: effect.runId, peer: effect.peer, err: why }, 'effect refused for good; recorded, not retried');
        return { id: effect.id, state: 'failed', error: why };
      }
      const delay = Math.max(
        backoff(effect.attempts + 1, this.deps.random ?? Math.random, this.deps.baseDelayMs ?? 1_000, this.deps.maxDelayMs ?? 300_000),
        err instanceof CvpError ? err.retryAfterMs ?? 0 : 0);
      log.warn({ effectId: effect.id, runId: effect.runId, peer: effect.peer, err: why, retryInMs: delay }, 'effect not delivered; will retry');
      return { id: effect.id, state: 'retry', nextAt: clock.now() + delay, error: why };
    }
  }

  private async carryOut(effect: Effect): Promise<{ thread?: { thread: string; channel: string; ts: string } } | undefined> {
    const p = effect.payload;
    switch (p.kind) {
      case 'result': {
        const sink = this.deps.results!;
        if (effect.attempts > 0 && effect.runId) {
          // An earlier attempt may have been stored with its answer lost (or the process died): look before writing twice.
          const item = String(p.result.data.item);
          const stored = await sink.findByRun(effect.runId, p.result.testcase.name, item);
          if (stored.some((r) => r.outcome === p.result.outcome)) return undefined;
        }
        await sink.submit(p.result);
        return undefined;
      }
      case 'notice': {
        if (effect.interrupted) {
          throw permanentError('PEER_UNAVAILABLE', 'a post of this notice was under way when the daemon stopped; not posted again, so it is posted at most once');
        }
        const notice = { ...p.notice };
        const channel = notice.channel ?? '';
        if (p.role === 'reply') {
          // Without a thread (its first notice was refused), the reply still goes out, unthreaded.
          const ts = this.deps.journal.threadTs(p.thread, channel);
          if (ts) notice.threadTs = ts;
        }
        const posted = await this.deps.notifier!.post(notice);
        if (p.role === 'start' && posted.ts) return { thread: { thread: p.thread, channel, ts: posted.ts } };
        return undefined;
      }
      case 'publish':
        await this.deps.bus!.publish(p.destination, p.body, p.headers);
        return undefined;
      case 'http':
        await this.deps.release!.call(p.url, p.method, p.body, p.idempotencyKey);
        return undefined;
    }
  }
}
