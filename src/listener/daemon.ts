import { describeError } from '../errors';
import type { Dispatcher } from './dispatch/dispatcher';
import type { Outbox } from './effects/outbox';
import type { GateKeeper } from './gate/gate-keeper';
import type { Intake } from './intake/intake';
import type { JournalHealth } from './journal-health';
import { Loop } from './loop';
import { deadOwners } from './owner';
import type { Bus, Clock, Logger } from './ports';
import type { Journal, RetentionPolicy } from './ports/journal';
import type { Tracker } from './tracking/tracker';
import type { Watchdog } from './watchdog';

export interface Source {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface DaemonDeps {
  journal: Journal;
  intake: Intake;
  dispatcher: Dispatcher;
  tracker: Tracker;
  outbox: Outbox;
  gate?: GateKeeper;
  bus?: Bus;
  topics: string[];
  sources: Source[];
  clock: Clock;
  log: Logger;
  health: JournalHealth;
  owner: string;
  /** Checks made before anything is taken in (every rule's job, say); a rejection refuses the start. */
  startupChecks?: () => Promise<void>;
  retention?: RetentionPolicy & { intervalMs: number };
  /** How often the journal is written to when nothing else writes, so readiness knows it can commit. */
  probeIntervalMs?: number;
  /** The last outbox pass on stop may take this long before the bus closes. */
  lastPassMs?: number;
  /** Looks for silent topics and stuck runs every so often. */
  watchdog?: Watchdog;
}

/** The listener's lifecycle: recover, subscribe, keep the loops going; stop in the reverse order. */
export class Daemon {
  private workLoops: Loop[] = [];
  private outboxLoops: Loop[] = [];
  private upkeep: Loop[] = [];
  private dispatchLoop?: Loop;
  private trackLoop?: Loop;
  private gateLoop?: Loop;
  private stopping = false;

  constructor(private readonly deps: DaemonDeps) {}

  /** Wakes the dispatcher (new runs committed). */
  runsCreated(): void {
    this.dispatchLoop?.wake();
  }

  /** Wakes the tracker, the gate and the outbox (a commit recorded effects or results). */
  effectsRecorded(): void {
    this.trackLoop?.wake();
    this.gateLoop?.wake();
    for (const l of this.outboxLoops) l.wake();
  }

  async start(): Promise<void> {
    const { dispatcher, tracker, outbox, gate, clock, log, journal, health } = this.deps;
    await this.deps.startupChecks?.();
    // A predecessor on this host that died (SIGKILL, a crash) need not wait for its leases to end.
    const dead = deadOwners(await journal.claimOwners(), this.deps.owner);
    if (dead.length) {
      const released = await journal.releaseClaims(dead);
      log.info({ owners: dead, claims: released }, 'claims of a previous process taken back');
    }
    const opts = { idleMs: 1_000, health };
    const wakeAfter = (pass: () => Promise<number>) => async () => {
      const n = await pass();
      if (n > 0) this.effectsRecorded();
      return n;
    };
    this.dispatchLoop = new Loop('dispatch', wakeAfter(() => dispatcher.runOnce()), () => dispatcher.nextDue(), clock, log, { ...opts, idleMs: 500 });
    this.trackLoop = new Loop('track', async () => {
      const n = await tracker.runOnce();
      // A run that ended may free a slot of its rule's in-flight limit: the dispatcher looks again.
      if (n > 0) { this.effectsRecorded(); this.dispatchLoop?.wake(); }
      return n;
    }, () => tracker.nextDue(), clock, log, opts);
    this.outboxLoops = outbox.peers().map((peer) => new Loop(`outbox-${peer}`, () => outbox.runOnce(peer), () => outbox.nextDue(peer), clock, log, opts));
    this.gateLoop = gate ? new Loop('gate', async () => {
      const n = await gate.runOnce();
      if (n > 0) for (const l of this.outboxLoops) l.wake();
      return n;
    }, () => gate.nextDue(), clock, log, opts) : undefined;
    this.workLoops = [this.dispatchLoop, this.trackLoop, ...(this.gateLoop ? [this.gateLoop] : [])];
    this.upkeep = [this.probeLoop(), ...(this.deps.retention ? [this.pruneLoop(this.deps.retention)] : []), ...this.watchdogLoop()];
    for (const l of [...this.workLoops, ...this.outboxLoops, ...this.upkeep]) l.start();
    health.onRecovered(() => { for (const l of [...this.workLoops, ...this.outboxLoops]) l.wake(); });
    // Work another daemon committed (a shared journal) is picked up now, not at the next timer.
    journal.onChange?.((what) => {
      if (what === 'runs') { this.dispatchLoop?.wake(); this.trackLoop?.wake(); } else if (what === 'gates') this.gateLoop?.wake();
      else for (const l of this.outboxLoops) l.wake();
    });
    if (this.deps.bus) {
      for (const topic of this.deps.topics) {
        await this.deps.bus.subscribe(topic, (delivery) => {
          this.deps.intake.processEvent(delivery).catch((err) => {
            // While stopping, what still arrives is left for the broker to redeliver: expected, not an error.
            if (this.stopping) log.debug({ messageId: delivery.envelope.id }, 'stopping: message left for redelivery');
            else log.error({ messageId: delivery.envelope.id, err: describeError(err) }, 'message not recorded; left unacked for redelivery');
          });
        });
      }
    }
    for (const s of this.deps.sources) await s.start();
    log.info({ topics: this.deps.topics, owner: this.deps.owner }, 'listening');
  }

  /** A write every few seconds when nothing else writes: readiness then says whether the journal can commit. */
  private probeLoop(): Loop {
    const { journal, clock, health, log } = this.deps;
    const every = this.deps.probeIntervalMs ?? 5_000;
    return new Loop('probe', async () => {
      await journal.probe(clock.now());
      health.succeeded(clock.now());
      return 0;
    }, async () => clock.now() + every, clock, log, { idleMs: every, health, maxBackoffMs: every });
  }

  /** The watchdog's looks; an alarm it raises or clears has a notice for the outbox. */
  private watchdogLoop(): Loop[] {
    const { watchdog, clock, log, health } = this.deps;
    if (!watchdog) return [];
    return [new Loop('watchdog', async () => {
      if ((await watchdog.runOnce()) > 0) for (const l of this.outboxLoops) l.wake();
      return 0;
    }, async () => clock.now() + watchdog.intervalMs, clock, log, { idleMs: watchdog.intervalMs, health })];
  }

  private pruneLoop(policy: RetentionPolicy & { intervalMs: number }): Loop {
    const { journal, clock, log, health } = this.deps;
    return new Loop('retention', async () => {
      const pruned = await journal.prune(policy, clock.now());
      const total = pruned.messages + pruned.runs + pruned.effects + pruned.results + pruned.gates;
      if (total) log.info({ ...pruned }, 'journal pruned');
      // A full batch means more is due: go on at once.
      return Object.values(pruned).some((n) => n >= policy.batch) ? 1 : 0;
    }, async () => clock.now() + policy.intervalMs, clock, log, { idleMs: policy.intervalMs, health });
  }

  /**
   * Stops taking messages, commits (and acks) what was received, lets the passes under way finish,
   * runs a last outbox pass while the bus is still open, then closes the bus and the journal.
   * Builds in flight stay in the journal and are resumed by the next start.
   */
  async stop(): Promise<void> {
    const { log } = this.deps;
    this.stopping = true;
    for (const s of this.deps.sources) await s.stop().catch((err) => log.warn({ err: describeError(err) }, 'source did not stop cleanly'));
    await this.deps.intake.drain();
    await Promise.all([...this.workLoops, ...this.upkeep].map((l) => l.stop()));
    await Promise.all(this.outboxLoops.map((l) => l.stop()));
    const bound = new Promise<void>((r) => setTimeout(r, this.deps.lastPassMs ?? 1_500).unref());
    await Promise.race([Promise.all(this.outboxLoops.map((l) => l.drain())), bound]);
    if (this.deps.bus) await this.deps.bus.close().catch((err) => log.warn({ err: describeError(err) }, 'bus did not close cleanly'));
    // What this process still holds is free at once for the others (and the next start), not after its leases.
    await this.deps.journal.releaseClaims([this.deps.owner]).catch((err) => log.warn({ err: describeError(err) }, 'claims not released; they end with their leases'));
    await this.deps.journal.close().catch((err) => log.warn({ err: describeError(err) }, 'journal did not close cleanly'));
    log.info({}, 'stopped');
  }
}
