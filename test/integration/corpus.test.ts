/**
 * The event contract and bad input: 10,000 hostile messages (test/support/malformed-corpus.ts)
 * interleaved with 1,000 valid group events, published through the real broker to the built daemon
 * running as its own process. Every message the corpus calls invalid must be dead-lettered exactly
 * once with its code and reasons; every valid one must give exactly one build and one final result
 * per image; the daemon must stay up and answer /healthz throughout, and give its memory back.
 *
 * The corpus is fixed by a seed printed in the output; repeat a run with CVP_TEST_SEED=<seed>.
 * CVP_TEST_KEEP=1 keeps the daemon's log (its path is printed).
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonProcess } from '../support/daemon-process';
import { eventually } from '../support/eventually';
import { bodyAsRead, CORPUS_KINDS, type CorpusMessage, generateCorpus, preview } from '../support/malformed-corpus';
import { startBroker, type Broker } from '../support/activemq';
import { connectTestClient, disconnectTestClient, lastClientError, type ReceivedMessage, sendWithReceipt, TestSubscription } from '../support/stomp-client';
import { countMistakes, itemsOf, JOB, streamEvent, StreamFixture } from '../support/stream-fixture';

const TOPIC_NAME = 'VirtualTopic.eng.ci.redhat-container-group.test.queued';
const TOPIC = `/topic/${TOPIC_NAME}`;
const MALFORMED = 10_000;
const VALID = 1_000;
const WARM_UP = 500;
const LIMITS = { max_message_bytes: 64 * 1024, max_depth: 32 };
const MAX_RSS_GROWTH = 64 * 1024 * 1024;
const MiB = 1024 * 1024;
const HEART_BEAT = '10000,10000';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The daemon's resident set size, from /proc/<pid>/status (VmRSS, kB). */
function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** The median of a few RSS readings over ~1.5 s, so one GC moment does not decide. */
async function settledRss(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let k = 0; k < 5; k++) {
    samples.push(rssBytes(pid));
    await sleep(300);
  }
  return samples.sort((a, b) => a - b)[2];
}

/** Publishes in order on one connection, with up to `window` SENDs awaiting their receipts. */
async function publishAll(port: number, messages: Array<{ body: string | Buffer; headers: Record<string, string> }>, window = 64): Promise<void> {
  const client = await connectTestClient(port, { heartBeat: HEART_BEAT });
  client.setMaxListeners(window + 16); // stompit listens on the client once per SEND awaiting its receipt
  let failure: unknown;
  const inFlight = new Set<Promise<void>>();
  try {
    for (const m of messages) {
      const headers = typeof m.body === 'string' ? { 'content-type': 'application/json', ...m.headers } : m.headers;
      const tracked: Promise<void> = sendWithReceipt(client, TOPIC, m.body, headers).then(
        () => { inFlight.delete(tracked); },
        (err: unknown) => { inFlight.delete(tracked); failure ??= err; },
      );
      inFlight.add(tracked);
      if (inFlight.size >= window) await Promise.race(inFlight);
      if (failure) throw failure;
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
  } finally {
    await disconnectTestClient(client);
  }
}

interface DeadLetter {
  headers: Record<string, string>;
  bodyHash: string;
  bodyLength: number;
  /** The body, or its first 1,000 characters when it is large. */
  body: string;
}

function bodyDifference(d: DeadLetter, original: string): string {
  let k = 0;
  while (k < d.body.length && k < original.length && d.body[k] === original[k]) k += 1;
  const at = k < d.body.length || d.bodyLength === original.length ? `, first difference at ${k}: got ${JSON.stringify(d.body.slice(k, k + 24))}, sent ${JSON.stringify(original.slice(k, k + 24))}` : '';
  return `got ${d.bodyLength} characters, sent ${original.length}${at}`;
}

/** What a problem is grouped by in the report: its message's kind/variant, or the start of its detail. */
function variantOf(m: CorpusMessage | undefined, detail?: string): string {
  return m ? `${m.kind}/${m.variant.split(':')[0]}` : JSON.stringify((detail ?? '').slice(0, 40));
}

/** What went wrong, by category, with the corpus messages concerned. */
class Problems {
  private readonly byCategory = new Map<string, Array<{ m?: CorpusMessage; detail?: string }>>();
  count = 0;

  add(category: string, m?: CorpusMessage, detail?: string): void {
    const list = this.byCategory.get(category) ?? [];
    list.push({ m, detail });
    this.byCategory.set(category, list);
    this.count += 1;
  }

  /** Category → count, for the assertion. */
  counts(): Record<string, number> {
    return Object.fromEntries([...this.byCategory].map(([c, l]) => [c, l.length]));
  }

  /** Each category: its count per corpus kind/variant, a few examples, and what the daemon logged for the first. */
  report(messageIdOf: (m: CorpusMessage) => string | undefined, log: string[]): string {
    const out: string[] = [];
    for (const [category, list] of this.byCategory) {
      const variants = new Map<string, number>();
      for (const { m, detail } of list) variants.set(variantOf(m, detail), (variants.get(variantOf(m, detail)) ?? 0) + 1);
      out.push(`- ${category}: ${list.length} (${[...variants].sort((a, b) => b[1] - a[1]).map(([v, n]) => `${v} ${n}`).join(', ')})`);
      // One example per kind/variant (the rarest first), at most five.
      const seen = new Set<string>();
      const key = (p: { m?: CorpusMessage; detail?: string }) => variantOf(p.m, p.detail);
      const examples = [...list].sort((a, b) => (variants.get(key(a)) ?? 0) - (variants.get(key(b)) ?? 0))
        .filter((p) => !seen.has(key(p)) && !!seen.add(key(p))).slice(0, 5);
      for (const { m, detail } of examples) {
        const id = m ? messageIdOf(m) : undefined;
        out.push(`    ${m ? `#${m.index} ${m.kind}/${m.variant} ${id ?? ''} body ${preview(m)}` : ''}${detail ? `\n      ${detail}` : ''}`);
      }
      const first = examples.find((p) => p.m)?.m;
      const id = first ? messageIdOf(first) : undefined;
      if (id) out.push(...log.filter((l) => l.includes(`"${id}"`)).slice(0, 3).map((l) => `      daemon: ${l.slice(0, 400)}`));
    }
    return out.join('\n');
  }
}

/**
 * Polls `done` every 250 ms until it holds or the time is up (false then). Slower than eventually():
 * the stand-ins answer the daemon from this same process, so a busy wait would slow the daemon down.
 */
async function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (done()) return true;
    if (Date.now() > deadline) return false;
    await sleep(250);
  }
}

/** The group id an item (an image NVR `<component>-<tag>.<n>-<k>`, see streamEvent, or a group id) belongs to. */
function groupOfItem(item: string): string {
  const m = /-([^-.]+)\.(\d+)-\d+$/.exec(item);
  return m ? `${m[1]}-${m[2]}` : item;
}

function hasAll(results: Map<string, number>, items: string[]): boolean {
  return items.every((i) => results.has(i));
}

/** Moves what a subscription collected out of it (so 11,000 bodies are not all kept) and hands each to `take`. */
function drain(sub: TestSubscription, take: (m: ReceivedMessage) => void): void {
  for (const m of sub.messages.splice(0)) take(m);
}

describe('the event contract and bad input', () => {
  let f: StreamFixture;
  // A broker of its own: 90 MiB of messages would otherwise be copied into every consumer queue other
  // tests left on this topic, and the shared broker's flow control would slow the tests after it.
  let broker: Broker;
  beforeEach(async () => { f = new StreamFixture(); await f.start(); broker = await startBroker(); });
  afterEach(async () => { await f.stop(); await broker.stop(); });

  it('dead-letters every malformed message of a 10,000-message corpus with its reasons, processes 1,000 interleaved valid events once each, stays up and gives its memory back', async () => {
    const port = broker.stompPort;
    const seed = Number(process.env.CVP_TEST_SEED ?? Date.now() % 1_000_000);
    const tag = `c${seed}`;
    const run = randomUUID().slice(0, 8);
    let t = Date.now();
    const corpus = generateCorpus({ seed, tag, malformed: MALFORMED, valid: VALID, maxMessageBytes: LIMITS.max_message_bytes, maxDepth: LIMITS.max_depth });
    const generatedMs = Date.now() - t;
    const expectInvalid = corpus.filter((m) => m.expect === 'invalid');
    const expectValid = corpus.filter((m) => m.expect === 'valid');
    const corpusBytes = corpus.reduce((n, m) => n + (typeof m.body === 'string' ? Buffer.byteLength(m.body) : m.body.length), 0);
    const byKind = CORPUS_KINDS.map((k) => {
      const of = corpus.filter((m) => m.kind === k);
      const valid = of.filter((m) => m.expect === 'valid').length;
      return `${k} ${of.length}${valid ? ` (${valid} valid once the parser drops the keys)` : ''}`;
    }).join(', ');
    console.log(`corpus seed ${seed} (repeat with CVP_TEST_SEED=${seed}): ${corpus.length} messages, ${(corpusBytes / MiB).toFixed(1)} MiB, ` +
      `generated in ${generatedMs} ms; ${expectInvalid.length} expected invalid, ${expectValid.length} expected valid ` +
      `(${VALID} plain group events + ${expectValid.length - VALID} with prototype keys); kinds: ${byKind}`);

    const consumer = `Consumer.cvp-corpus.${run}`;
    // A slow bus heart-beat too: a connection the daemon loses here should be the corpus's doing.
    const daemon = new DaemonProcess(f.writeConfig(port, consumer, { limits: LIMITS, heartbeat: '10s' }), f.dir, f.env);
    const logFile = join(f.dir, 'daemon-1.log');
    daemon.start();
    await eventually('the daemon to subscribe', () => { daemon.assertAlive(); return f.ready(); }, 30_000);
    const pid = daemon.pid!;

    // The dead letters, and a tap on the topic (a virtual topic queue of its own) that says which
    // broker message id each corpus message got: dead letters name their original by that id.
    // Their own connections, with slow heart-beats: stompit drops a connection 100 ms after a missed
    // one, and the broker is busy here (a GC pause would cost the test its record of the run).
    const dlqClient = await connectTestClient(port, { heartBeat: HEART_BEAT });
    const tapClient = await connectTestClient(port, { heartBeat: HEART_BEAT });
    const dlq = await TestSubscription.open(dlqClient, `/queue/${consumer}.dead-letter`, { ack: 'auto', prefetch: 1000 });
    const tap = await TestSubscription.open(tapClient, `/queue/Consumer.cvp-corpus-tap.${run}.${TOPIC_NAME}`, { ack: 'auto', prefetch: 1000 });
    const deadLetters: DeadLetter[] = [];
    const indexOfMessageId = new Map<string, number>();
    let tapped = 0;
    const collect = () => {
      drain(dlq, (m) => deadLetters.push({ headers: m.headers, bodyHash: sha256(m.body), bodyLength: m.body.length, body: m.body.length > 20_000 ? m.body.slice(0, 1_000) : m.body }));
      drain(tap, (m) => {
        tapped += 1;
        if (m.headers.corpus_index !== undefined) indexOfMessageId.set(m.headers['message-id'], Number(m.headers.corpus_index));
      });
    };

    // The daemon must stay up: /healthz polled all along, the process watched, its RSS sampled.
    const health = { ok: 0, failed: [] as string[], maxMs: 0, peakRss: 0, died: null as string | null };
    let monitoring = true;
    const monitor = (async () => {
      while (monitoring) {
        collect();
        try { daemon.assertAlive(); } catch (err) { health.died ??= (err as Error).message; }
        const started = Date.now();
        try {
          const r = await fetch(`http://127.0.0.1:${f.intakePort}/healthz`, { signal: AbortSignal.timeout(5_000) });
          await r.arrayBuffer();
          if (r.status === 200) health.ok += 1;
          else health.failed.push(`${new Date().toISOString()} status ${r.status}`);
        } catch (err) {
          health.failed.push(`${new Date().toISOString()} ${(err as Error).message}`);
        }
        health.maxMs = Math.max(health.maxMs, Date.now() - started);
        try { health.peakRss = Math.max(health.peakRss, rssBytes(pid)); } catch { /* gone: assertAlive says why */ }
        await sleep(200);
      }
    })();

    try {
      // Warm-up: 500 valid events, then the baseline once the daemon is idle.
      const warmTag = `${tag}w`;
      t = Date.now();
      await publishAll(port, Array.from({ length: WARM_UP }, (_, n) => ({ body: JSON.stringify(streamEvent(warmTag, n)), headers: {} })));
      const warmItems = Array.from({ length: WARM_UP }, (_, n) => itemsOf(warmTag, n)).flat();
      if (!await waitUntil(() => hasAll(f.finalResultsPerItem(), warmItems), 60_000)) {
        throw new Error(`the warm-up events did not all get their results: ${JSON.stringify(countMistakes(f, warmTag, WARM_UP))}`);
      }
      const warmMs = Date.now() - t;
      await sleep(3_000);
      const baselineRss = await settledRss(pid);
      console.log(`warm-up: ${WARM_UP} valid events processed in ${(warmMs / 1000).toFixed(1)} s (${Math.round(WARM_UP / (warmMs / 1000))} events/s); ` +
        `daemon RSS baseline ${(baselineRss / MiB).toFixed(1)} MiB`);

      // The corpus.
      const started = Date.now();
      await publishAll(port, corpus);
      const publishMs = Date.now() - started;
      console.log(`published ${corpus.length} messages (${(corpusBytes / MiB).toFixed(1)} MiB) in ${(publishMs / 1000).toFixed(1)} s: ` +
        `${Math.round(corpus.length / (publishMs / 1000))} messages/s`);
      const validItems = expectValid.flatMap((m) => m.items!);
      const finished = await waitUntil(() => {
        collect();
        return !!health.died || (deadLetters.length >= expectInvalid.length && hasAll(f.finalResultsPerItem(), validItems));
      }, 150_000);
      if (!finished) {
        const results = f.finalResultsPerItem();
        console.log(`gave up waiting after 150 s: ${deadLetters.length}/${expectInvalid.length} dead letters, ` +
          `${validItems.filter((i) => results.has(i)).length}/${validItems.length} items with final results, ${f.jenkins.triggerCount(JOB)} builds`);
      } else {
        const processMs = Date.now() - started;
        console.log(`processed: ${corpus.length} messages in ${(processMs / 1000).toFixed(1)} s from the first publish: ` +
          `${Math.round(corpus.length / (processMs / 1000))} messages/s (${Math.round(expectInvalid.length / (processMs / 1000))} dead letters/s, ` +
          `${expectValid.length} builds and ${validItems.length} final results)`);
      }

      // Idle for a while: late extras (a second dead letter, a stray build) would show now; then the RSS.
      await sleep(5_000);
      collect();
      const afterRss = health.died ? Number.NaN : await settledRss(pid);
      const healthz = await fetch(`http://127.0.0.1:${f.intakePort}/healthz`).catch(() => ({ status: 0 }));
      monitoring = false;
      await monitor;
      console.log(`daemon RSS: baseline ${(baselineRss / MiB).toFixed(1)} MiB, after the corpus (idle) ${(afterRss / MiB).toFixed(1)} MiB ` +
        `(growth ${((afterRss - baselineRss) / MiB).toFixed(1)} MiB, bound ${MAX_RSS_GROWTH / MiB} MiB), peak ${(health.peakRss / MiB).toFixed(1)} MiB; ` +
        `/healthz: ${health.ok} answers, ${health.failed.length} failures, slowest ${health.maxMs} ms`);

      // Dead letters: each one names a corpus message that is invalid, once, with its code and reasons.
      const problems = new Problems();
      const byIndex = new Map<number, CorpusMessage>(corpus.map((m) => [m.index, m]));
      const byGroup = new Map<string, CorpusMessage>(corpus.map((m) => [m.groupId, m]));
      const deadLettered = new Set<number>();
      for (const d of deadLetters) {
        const h = d.headers;
        const id = h['cvp-original-message-id'];
        const index = id === undefined ? undefined : indexOfMessageId.get(id);
        const m = index === undefined ? undefined : byIndex.get(index);
        if (!m) {
          problems.add('dead letter naming no corpus message', undefined, `original id ${id}, code ${h['cvp-error-code']}, reason ${h['cvp-reason-1']}, body ${JSON.stringify(d.body.slice(0, 100))}`);
          continue;
        }
        if (deadLettered.has(m.index)) problems.add('dead-lettered more than once', m);
        deadLettered.add(m.index);
        if (m.expect === 'valid') {
          problems.add('valid event dead-lettered', m, `${h['cvp-error-code']}: ${h['cvp-reason-1']}`);
          continue;
        }
        const count = Number(h['cvp-reason-count']);
        const reasons = Array.from({ length: Math.min(count, 20) }, (_, k) => h[`cvp-reason-${k + 1}`]);
        if (!h['cvp-error-code']) problems.add('no cvp-error-code', m);
        else if (m.code && h['cvp-error-code'] !== m.code) problems.add('wrong cvp-error-code', m, `${h['cvp-error-code']} (${h['cvp-reason-1']}), expected ${m.code}`);
        if (!(count >= 1) || !h['cvp-reason-1']) problems.add('no reason', m, `cvp-reason-count ${h['cvp-reason-count']}`);
        else if (reasons.some((r) => !r)) problems.add('fewer cvp-reason-N headers than cvp-reason-count', m, `count ${count}`);
        for (const p of m.reasonPaths) {
          if (!reasons.some((r) => r?.startsWith(`${p}:`))) problems.add('a reason missing', m, `none for ${p}; reasons ${JSON.stringify(reasons)}`);
        }
        if (h['cvp-original-topic'] !== TOPIC_NAME) problems.add('wrong cvp-original-topic', m, h['cvp-original-topic']);
        const original = bodyAsRead(m);
        if (d.bodyHash !== sha256(original)) problems.add('dead letter body is not the original body', m, bodyDifference(d, original));
      }
      const notDeadLettered = expectInvalid.filter((m) => !deadLettered.has(m.index));
      const builds = f.buildsPerEvent();
      for (const m of notDeadLettered) {
        problems.add(builds.has(m.groupId) ? 'invalid message processed (built), not dead-lettered' : 'invalid message not dead-lettered', m);
      }

      // Valid events: one build each, one final result per image, nothing for anything else.
      const results = f.finalResultsPerItem();
      const expectedGroups = new Set([...expectValid.map((m) => m.groupId), ...Array.from({ length: WARM_UP }, (_, n) => `${warmTag}-${n}`)]);
      for (const m of expectValid) {
        const b = builds.get(m.groupId) ?? 0;
        if (b !== 1) problems.add('valid event without exactly one build', m, `${b} builds`);
        for (const item of m.items!) if ((results.get(item) ?? 0) !== 1) problems.add('image without exactly one final result', m, `${results.get(item) ?? 0} for ${item}`);
      }
      for (const [group, n] of builds) {
        if (!expectedGroups.has(group)) problems.add('build for no valid event', byGroup.get(group), `${n} for group ${JSON.stringify(group)}`);
      }
      // ResultsDB: besides the images' results, one result per group (item = the group id).
      const expectedItems = new Set([...validItems, ...warmItems, ...expectedGroups]);
      for (const [item, n] of results) {
        if (!expectedItems.has(item)) problems.add('final result for no valid event', byGroup.get(groupOfItem(item)), `${n} for ${item}`);
        else if (n !== 1) problems.add('more than one final result', undefined, `${n} for ${item}`);
      }

      // The daemon's broker connection: nothing in the corpus should cost it (the heart-beat is slow here).
      const log = readFileSync(logFile, 'utf8').split('\n');
      for (const line of log.filter((l) => l.includes('"lost the broker connection; reconnecting"'))) {
        problems.add('daemon lost its broker connection', undefined, /"err":"(.{0,160})/.exec(line)?.[1] ?? line.slice(0, 200));
      }

      if (problems.count) {
        const idOf = new Map([...indexOfMessageId].map(([id, i]) => [i, id]));
        console.log(`${problems.count} problems (seed ${seed}; daemon log ${logFile}${process.env.CVP_TEST_KEEP ? '' : ', kept with CVP_TEST_KEEP=1'}):\n` +
          problems.report((m) => idOf.get(m.index), log));
      }

      for (const [name, sub] of [['dead-letter', dlq], ['tap', tap]] as const) {
        const err = lastClientError(sub.client);
        if (err) console.log(`the ${name} subscription's connection failed: ${err.message}`);
      }
      expect(health.died).toBeNull();
      expect(health.failed).toEqual([]);
      expect(healthz.status).toBe(200);
      expect(tapped).toBe(WARM_UP + corpus.length);
      expect(indexOfMessageId.size).toBe(corpus.length);
      expect(deadLetters.length).toBe(expectInvalid.length);
      expect(problems.counts()).toEqual({});
      expect(countMistakes(f, warmTag, WARM_UP)).toEqual({ missingBuilds: 0, extraBuilds: 0, missingResults: 0, extraResults: 0 });
      expect(f.jenkins.triggerCount(JOB)).toBe(WARM_UP + expectValid.length);
      expect(results.size).toBe(expectedItems.size);
      expect(afterRss - baselineRss).toBeLessThan(MAX_RSS_GROWTH);
    } finally {
      monitoring = false;
      await monitor;
      await disconnectTestClient(dlqClient);
      await disconnectTestClient(tapClient);
      if (daemon.running) {
        const stop = await daemon.terminate();
        expect(stop.code).toBe(0);
      }
    }
  }, 300_000);
});
