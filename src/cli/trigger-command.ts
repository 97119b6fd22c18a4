import { readFileSync } from 'node:fs';
import { SIMULATED_FIELD, SIMULATED_HEADER } from '../listener/intake/simulated';
import { StompBus } from '../adapters/bus/stomp-bus';
import type { EventView } from '../listener/views/event-view';
import type { Logger } from '../listener/ports';
import { EventValidator } from '../validator/event-validator';
import { schemasDir } from '../paths';
import { applySet, loadTemplate, TEMPLATES } from './event-templates';

export interface TriggerArgs {
  template?: string;
  file?: string;
  topic?: string;
  set: string[];
  to?: string;
  broker?: string;
  dryRun: boolean;
  wait: boolean;
  timeoutS: number;
  /** The intake's bearer token, when it requires one. */
  token?: string;
}

export interface TriggerIo {
  out: (line: string) => void;
  err: (line: string) => void;
  fetch: typeof fetch;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  log: Logger;
}

/** Builds the event, validates it, sends it; with --wait follows it through the daemon. Returns the exit code. */
export async function runTrigger(args: TriggerArgs, io: TriggerIo): Promise<number> {
  let topic: string;
  let body: Record<string, unknown>;
  if (args.file) {
    body = JSON.parse(readFileSync(args.file, 'utf8')) as Record<string, unknown>;
    const type = (body.artifact as { type?: string } | undefined)?.type;
    topic = args.topic ?? (args.template ? TEMPLATES[args.template]?.topic : undefined) ?? `VirtualTopic.eng.ci.${type ?? 'unknown'}.test.queued`;
  } else {
    if (!args.template) throw new Error(`name a template (${Object.keys(TEMPLATES).join(', ')}) or give --file`);
    ({ topic, body } = loadTemplate(args.template, io.now()));
    if (args.topic) topic = args.topic;
  }
  for (const s of args.set) applySet(body, s);
  // A tester's event: marked, so its results are kept apart and can never be taken for real ones.
  body[SIMULATED_FIELD] = true;
  topic = topic.replace(/^\/topic\//, '');

  const validity = new EventValidator(schemasDir).validate(topic, body);
  if (!validity.valid) {
    io.err(`the event is not valid for ${topic}; not sent:`);
    for (const r of validity.reasons) io.err(`  ${r}`);
    return 2;
  }
  const text = JSON.stringify(body, null, 2);
  if (args.dryRun) {
    io.out(`topic: ${topic}`);
    io.out(text);
    return 0;
  }
  if (args.broker) return sendToBroker(args, topic, text, io);
  if (args.to) return sendToIntake(args, topic, body, io);
  throw new Error('say where to send it: --to http://127.0.0.1:8080 (a daemon\'s intake) or --broker stomp://host:port, or --dry-run');
}

async function sendToBroker(args: TriggerArgs, topic: string, text: string, io: TriggerIo): Promise<number> {
  const url = new URL(args.broker!);
  if (url.protocol !== 'stomp:') throw new Error(`--broker: expected stomp://host:port, found ${args.broker}`);
  const bus = new StompBus({
    servers: [{ host: url.hostname, port: Number(url.port || 61613) }],
    consumer: 'Consumer.cvp.trigger', heartbeatMs: 5_000, connectTimeoutMs: 10_000,
    reconnectDelayMs: 500, maxReconnectDelayMs: 2_000, prefetch: 1, log: io.log, publishWaitMs: 15_000,
  });
  try {
    await bus.publish(`/topic/${topic}`, text, { [SIMULATED_HEADER]: 'true' });
  } finally {
    await bus.close();
  }
  io.out(`sent to /topic/${topic} on ${args.broker}`);
  if (args.wait) io.err('--wait follows an event through a daemon\'s intake (--to); with --broker, see `cvp status` on the daemon');
  return 0;
}

async function sendToIntake(args: TriggerArgs, topic: string, body: unknown, io: TriggerIo): Promise<number> {
  const base = args.to!.replace(/\/$/, '');
  let res: Response;
  try {
    res = await io.fetch(`${base}/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...authHeader(args.token) }, body: JSON.stringify({ topic, body }) });
  } catch (err) {
    io.err(`cannot reach the intake at ${base}: ${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message} (is \`npm start\` running?)`);
    return 2;
  }
  const answer = (await res.json()) as { status: string; messageId: string; runIds?: string[]; reasons?: string[]; error?: string };
  if (!res.ok && answer.status !== 'rejected') {
    io.err(`the intake answered ${res.status}: ${answer.error ?? JSON.stringify(answer)}`);
    return 2;
  }
  io.out(`event ${answer.messageId}: ${answer.status}${answer.runIds ? `, ${answer.runIds.length} run(s)` : ''}`);
  if (answer.status === 'rejected') {
    for (const r of answer.reasons ?? []) io.err(`  ${r}`);
    return 1;
  }
  if (!args.wait) return 0;
  if (answer.status !== 'accepted') return answer.status === 'duplicate' ? 0 : 1;
  return waitForOutcome(base, answer.messageId, args.timeoutS, io, args.token);
}

function authHeader(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function waitForOutcome(base: string, id: string, timeoutS: number, io: TriggerIo, token?: string): Promise<number> {
  const deadline = io.now().getTime() + timeoutS * 1000;
  const seen = new Map<string, string>();
  for (;;) {
    const res = await io.fetch(`${base}/events/${encodeURIComponent(id)}`, { headers: authHeader(token) });
    if (res.ok) {
      const view = (await res.json()) as EventView;
      for (const run of view.runs) {
        const line = `${run.state}${run.outcome ? ` ${run.outcome}` : ''}`;
        if (seen.get(run.id) !== line) {
          seen.set(run.id, line);
          io.out(`  ${run.job} [${run.id.slice(0, 8)}]: ${line}${run.buildUrl ? `  ${run.buildUrl}` : ''}${run.reason && run.state === 'finished' ? `  (${run.reason})` : ''}`);
        }
      }
      if (view.done) {
        io.out(view.passed ? 'all runs passed' : 'not all runs passed');
        return view.passed ? 0 : 1;
      }
    }
    if (io.now().getTime() > deadline) {
      io.err(`gave up waiting after ${timeoutS} s; the runs go on (see GET ${base}/events/${id})`);
      return 1;
    }
    await io.sleep(500);
  }
}
