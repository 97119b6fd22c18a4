import { describeError } from '../errors';
import type { Dispatcher } from './dispatch/dispatcher';
import type { GateKeeper } from './gate/gate-keeper';
import type { Intake } from './intake/intake';
import type { Journal } from './ports/journal';
import { Loop } from './loop';
import type { Outbox } from './effects/outbox';
import type { Bus, Clock, Logger } from './ports';
import type { Tracker } from './tracking/tracker';

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
  bus?: Bus;
  topics: string[];
  sources: Source[];
  clock: Clock;
  log: Logger;
  gate?: GateKeeper;
}

/** The listener's lifecycle: recover, subscribe, keep the loops going; stop in the reverse order. */
export class Daemon {
  private loops: Loop[] = [];
  private dispatchLoop?: Loop;
  private trackLoop?: Loop;

  constructor(private readonly deps: DaemonDeps) {}

  /** Wakes the dispatcher (new runs committed). */
  runsCreated(): void {
    this.dispatchLoop?.wake();
  }

  /** Wakes the tracker (a build was triggered) and the outbox (effects were queued). */
  runsTracked(): void {
    this.trackLoop?.wake();
    for (const l of this.loops) l.wake();
  }

  async start(): Promise<void> {
    const { dispatcher, tracker, outbox, clock, log } = this.deps;
    this.deps.gate?.sweep();
    const resumed = await dispatcher.recover();
    if (resumed) log.info({ runs: resumed }, 'runs in flight at the last stop were looked up');
    this.dispatchLoop = new Loop('dispatch', async () => (await dispatcher.runOnce()) + (await dispatcher.retryOnce()), () => null, clock, log, 500);
    this.trackLoop = new Loop('track', () => tracker.runOnce(), () => tracker.nextDue(), clock, log, 1_000);
    this.loops = [this.dispatchLoop, this.trackLoop,
      ...outbox.peers().map((peer) => new Loop(`outbox-${peer}`, () => outbox.runOnce(peer), () => outbox.nextDue(peer), clock, log, 1_000))];
    for (const l of this.loops) l.start();
    if (this.deps.bus) {
      for (const topic of this.deps.topics) {
        await this.deps.bus.subscribe(topic, (delivery) => {
          this.deps.intake.processEvent(delivery).catch((err) =>
            log.error({ messageId: delivery.envelope.id, err: describeError(err) }, 'message not recorded; left unacked for redelivery'));
        });
      }
    }
    for (const s of this.deps.sources) await s.start();
    log.info({ topics: this.deps.topics }, 'listening');
  }

  /**
   * Stops taking messages first, commits what was received, lets the passes under way finish,
   * and closes the journal last. Builds in flight stay in the journal and are resumed by the next start.
   */
  async stop(): Promise<void> {
    const { log } = this.deps;
    for (const s of this.deps.sources) await s.stop().catch((err) => log.warn({ err: describeError(err) }, 'source did not stop cleanly'));
    // Commit (and ack) what has arrived, close the bus, then commit what arrived meanwhile: its acks
    // are lost with the connection, so the broker redelivers it and the journal knows it already.
    this.deps.intake.drain();
    if (this.deps.bus) await this.deps.bus.close().catch((err) => log.warn({ err: describeError(err) }, 'bus did not close cleanly'));
    this.deps.intake.drain();
    await Promise.all(this.loops.map((l) => l.stop()));
    this.deps.journal.close();
    log.info({}, 'stopped');
  }
}
