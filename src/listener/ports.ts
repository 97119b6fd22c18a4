/**
 * The ports the core uses. Each lists only what the core calls; adapters live in src/adapters
 * and are wired by the CLI, never imported here.
 */

/** One message as it arrived, before anything is known about it. */
export interface Envelope {
  /** The broker's message-id, or the id the intake gave it. */
  id: string;
  /** The virtual topic name, e.g. VirtualTopic.eng.ci.redhat-container-group.test.queued. */
  topic: string;
  headers: Record<string, string>;
  body: string;
  source: 'bus' | 'intake' | 'replay';
  /** Set when the bytes were not valid UTF-8 (the body then holds a lossy decoding). */
  encodingError?: string;
}

export interface Delivery {
  envelope: Envelope;
  /** Opaque to the core: what the bus needs to ack or nack this delivery. */
  handle: unknown;
}

export type DeliveryHandler = (delivery: Delivery) => void;

export interface Bus {
  subscribe(topic: string, onDelivery: DeliveryHandler): Promise<void>;
  publish(destination: string, body: string, headers: Record<string, string>): Promise<void>;
  ack(delivery: Delivery): Promise<void>;
  nack(delivery: Delivery): Promise<void>;
  close(): Promise<void>;
}

/** Where a build is, as far as the executor told us. */
export interface BuildRef {
  queueId?: string;
  number?: number;
  url?: string;
}

export type BuildState = 'queued' | 'running' | 'finished' | 'cancelled';

export interface BuildStatus {
  state: BuildState;
  ref: BuildRef;
  /** The executor's own verdict (SUCCESS, UNSTABLE, FAILURE, ABORTED, NOT_BUILT) once finished. */
  result?: string;
}

export interface Executor {
  readonly name: string;
  trigger(job: string, parameters: Record<string, string>, runId: string): Promise<BuildRef>;
  /** Finds a build started with this CVP_RUN_ID, so a crash between trigger and record never triggers twice. */
  locate(job: string, runId: string): Promise<BuildRef | null>;
  status(job: string, ref: BuildRef, runId: string): Promise<BuildStatus>;
  cancel(job: string, ref: BuildRef): Promise<void>;
}

/** A result as ResultsDB stores it. */
export interface ResultRecord {
  testcase: { name: string; ref_url?: string };
  outcome: string;
  ref_url?: string;
  note?: string;
  data: Record<string, string | string[]>;
}

export interface ResultSink {
  readonly name: string;
  submit(result: ResultRecord): Promise<{ id: string | number }>;
  /** The results already stored for this run and test case, to skip a write whose answer was lost. */
  findByRun(runId: string, testcase: string, item: string): Promise<Array<{ id: string | number; outcome: string }>>;
}

export interface Notice {
  /** Plain-text fallback, also what a console notifier prints. */
  text: string;
  blocks: unknown[];
  channel?: string;
  threadTs?: string;
}

export interface Notifier {
  readonly name: string;
  post(notice: Notice): Promise<{ ts?: string; channel?: string }>;
}

/** The release action's HTTP call (the release driver's API). */
export interface ReleaseHook {
  call(url: string, method: 'POST' | 'PUT', body: string, idempotencyKey: string): Promise<void>;
}

/** What the core counts; the Prometheus adapter (or nothing) serves it. */
export interface Metrics {
  messageJudged(topic: string, verdict: 'valid' | 'rejected' | 'duplicate', code?: string): void;
  deadLettered(topic: string): void;
  runFinished(outcome: string): void;
  runTriggered(): void;
  effectDelivered(peer: string, latencySeconds: number): void;
  effectFailed(peer: string, permanent: boolean): void;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}
