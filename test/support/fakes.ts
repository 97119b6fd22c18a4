import { randomUUID } from 'node:crypto';
import type { BuildRef, BuildStatus, Bus, Clock, Delivery, DeliveryHandler, Executor, Logger, Notice, Notifier, ResultRecord, ResultSink } from '../../src/listener/ports';
import { transientError } from '../../src/errors';

/** A clock the test moves by hand: no sleeps. */
export class FakeClock implements Clock {
  constructor(public t = 1_700_000_000_000) {}
  now(): number { return this.t; }
  advance(ms: number): void { this.t += ms; }
}

export interface LogLine { level: string; obj: object; msg?: string }

export class MemoryLogger implements Logger {
  lines: LogLine[] = [];
  info(obj: object, msg?: string): void { this.lines.push({ level: 'info', obj, msg }); }
  warn(obj: object, msg?: string): void { this.lines.push({ level: 'warn', obj, msg }); }
  error(obj: object, msg?: string): void { this.lines.push({ level: 'error', obj, msg }); }
  debug(obj: object, msg?: string): void { this.lines.push({ level: 'debug', obj, msg }); }
}

/** The bus as the core sees it, driven by the test (the FakeReceiver pattern). */
export class FakeBus implements Bus {
  handlers = new Map<string, DeliveryHandler>();
  published: Array<{ destination: string; body: string; headers: Record<string, string> }> = [];
  acked: string[] = [];
  nacked: string[] = [];
  failPublish = 0;

  async subscribe(topic: string, onDelivery: DeliveryHandler): Promise<void> { this.handlers.set(topic, onDelivery); }
  async publish(destination: string, body: string, headers: Record<string, string>): Promise<void> {
    if (this.failPublish > 0) { this.failPublish -= 1; throw transientError('BUS_UNAVAILABLE', 'fake bus down'); }
    this.published.push({ destination, body, headers });
  }
  async ack(d: Delivery): Promise<void> { this.acked.push(d.envelope.id); }
  async nack(d: Delivery): Promise<void> { this.nacked.push(d.envelope.id); }
  async close(): Promise<void> { this.handlers.clear(); }

  delivery(topic: string, body: string | object, id = `ID:fake-${randomUUID()}`): Delivery {
    return { envelope: { id, topic, headers: { 'message-id': id }, body: typeof body === 'string' ? body : JSON.stringify(body), source: 'bus' }, handle: id };
  }
}

interface FakeBuild { job: string; parameters: Record<string, string>; runId: string; number: number; result?: string; cancelled?: boolean }

/** An executor whose builds the test finishes by hand. */
export class FakeExecutor implements Executor {
  readonly name = 'jenkins';
  builds: FakeBuild[] = [];
  failTrigger: Error[] = [];
  locates = 0;

  /** The deadline each trigger was given (when its claim would let another daemon take the run over). */
  deadlines: Array<number | undefined> = [];

  async trigger(job: string, parameters: Record<string, string>, runId: string, deadline?: number): Promise<BuildRef> {
    this.deadlines.push(deadline);
    const e = this.failTrigger.shift();
    if (e) throw e;
    const number = this.builds.length + 1;
    this.builds.push({ job, parameters, runId, number });
    return { queueId: String(number) };
  }
  async locate(_job: string, runId: string): Promise<BuildRef | null> {
    this.locates += 1;
    const b = this.builds.find((x) => x.runId === runId);
    return b ? { queueId: String(b.number), number: b.number, url: `http://jenkins/job/${b.job}/${b.number}/` } : null;
  }
  async status(_job: string, ref: BuildRef): Promise<BuildStatus> {
    const b = this.builds[Number(ref.queueId) - 1];
    const r = { queueId: ref.queueId, number: b.number, url: `http://jenkins/job/${b.job}/${b.number}/` };
    if (b.cancelled) return { state: 'cancelled', ref: r };
    return b.result ? { state: 'finished', ref: r, result: b.result } : { state: 'running', ref: r };
  }
  async cancel(_job: string, ref: BuildRef): Promise<void> { this.builds[Number(ref.queueId) - 1].cancelled = true; }
  declared: Record<string, string[] | null> = {};
  async declaredParameters(job: string): Promise<string[] | null> { return this.declared[job] ?? null; }
  finish(runId: string, result: string): void { this.builds.find((b) => b.runId === runId)!.result = result; }
}

export class MemoryResults implements ResultSink {
  readonly name = 'memory';
  results: ResultRecord[] = [];
  async submit(r: ResultRecord): Promise<{ id: number }> { this.results.push(r); return { id: this.results.length }; }
  async findByRun(runId: string, testcase: string, item: string): Promise<Array<{ id: number; outcome: string }>> {
    return this.results.map((r, i) => ({ r, id: i + 1 }))
      .filter(({ r }) => r.data.cvp_run_id === runId && r.testcase.name === testcase && r.data.item === item)
      .map(({ r, id }) => ({ id, outcome: r.outcome }));
  }
}

export class MemoryNotifier implements Notifier {
  readonly name = 'memory';
  notices: Notice[] = [];
  async post(n: Notice): Promise<{ ts: string }> { this.notices.push(n); return { ts: `1700000000.${String(this.notices.length).padStart(6, '0')}` }; }
  async find(key: string): Promise<{ ts: string } | null> {
    const i = this.notices.findIndex((n) => n.key === key);
    return i < 0 ? null : { ts: `1700000000.${String(i + 1).padStart(6, '0')}` };
  }
}
