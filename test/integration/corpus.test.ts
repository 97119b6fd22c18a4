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
import { connectTestClient, disconnectTestClient, type ReceivedMessage, sendWithReceipt, TestSubscription, testStompPort } from '../support/stomp-client';
import { countMistakes, JOB, streamEvent, StreamFixture } from '../support/stream-fixture';

const TOPIC_NAME = 'VirtualTopic.eng.ci.redhat-container-group.test.queued';
const TOPIC = `/topic/${TOPIC_NAME}`;
const MALFORMED = 10_000;
const VALID = 1_000;
const WARM_UP = 500;
const LIMITS = { max_message_bytes: 64 * 1024, max_depth: 32 };
const MAX_RSS_GROWTH = 64 * 1024 * 1024;
const MiB = 1024 * 1024;

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
  const client = await connectTestClient(port);
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
  bodyPreview: string;
}

/** Moves what a subscription collected out of it (so 11,000 bodies are not all kept) and hands each to `take`. */
function drain(sub: TestSubscription, take: (m: ReceivedMessage) => void): void {
  for (const m of sub.messages.splice(0)) take(m);
}

describe('the event contract and bad input', () => {
  let f: StreamFixture;
  beforeEach(async () => { f = new StreamFixture(); await f.start(); });
  afterEach(async () => { await f.stop(); });

  it('dead-letters every malformed message of a 10,000-message corpus with its reasons, processes 1,000 interleaved valid events once each, stays up and gives its memory back', async () => {
    const port = testStompPort();
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
    const daemon = new DaemonProcess(f.writeConfig(port, consumer, { limits: LIMITS }), f.dir, f.env);
    const logFile = join(f.dir, 'daemon-1.log');
    daemon.start();
    await eventually('the daemon to subscribe', () => { daemon.assertAlive(); return f.ready(); }, 30_000);
    const pid = daemon.pid!;

    // The dead letters, and a tap on the topic (a virtual topic queue of its own) that says which
    // broker message id each corpus message got: dead letters name their original by that id.
    const dlq = await TestSubscription.open(port, `/queue/${consumer}.dead-letter`, { ack: 'auto', prefetch: 1000 });
    const tap = await TestSubscription.open(port, `/queue/Consumer.cvp-corpus-tap.${run}.${TOPIC_NAME}`, { ack: 'auto', prefetch: 1000 });
    const deadLetters: DeadLetter[] = [];
    const indexOfMessageId = new Map<string, number>();
    let tapped = 0;
    const collect = () => {
      drain(dlq, (m) => deadLetters.push({ headers: m.headers, bodyHash: sha256(m.body), bodyPreview: JSON.stringify(m.body.slice(0, 120)) }));
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
      await eventually('the warm-up events to have their results', () => countMistakes(f, warmTag, WARM_UP).missingResults === 0, 60_000);
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
      const done = () => {
        const results = f.finalResultsPerItem();
        return deadLetters.length >= expectInvalid.length && validItems.every((item) => results.has(item));
      };
      await eventually(`${expectInvalid.length} dead letters and final results for ${expectValid.length} valid events`, () => {
        if (health.died) throw new Error(health.died);
        return done();
      }, 150_000).catch((err: Error) => {
        const results = f.finalResultsPerItem();
        throw new Error(`${err.message}: ${deadLetters.length} dead letters, ${validItems.filter((i) => results.has(i)).length}/${validItems.length} items with results, ` +
          `${f.jenkins.triggerCount(JOB)} builds`);
      });
      const processMs = Date.now() - started;
      console.log(`processed: ${corpus.length} messages in ${(processMs / 1000).toFixed(1)} s from the first publish: ` +
        `${Math.round(corpus.length / (processMs / 1000))} messages/s (${Math.round(expectInvalid.length / (processMs / 1000))} dead letters/s, ` +
        `${expectValid.length} builds and ${validItems.length} final results)`);

      // Idle for a while: late extras (a second dead letter, a stray build) would show now; then the RSS.
      await sleep(5_000);
      collect();
      const afterRss = await settledRss(pid);
      const healthz = await fetch(`http://127.0.0.1:${f.intakePort}/healthz`);
      monitoring = false;
      await monitor;
      console.log(`daemon RSS: baseline ${(baselineRss / MiB).toFixed(1)} MiB, after the corpus (idle) ${(afterRss / MiB).toFixed(1)} MiB ` +
        `(growth ${((afterRss - baselineRss) / MiB).toFixed(1)} MiB, bound ${MAX_RSS_GROWTH / MiB} MiB), peak ${(health.peakRss / MiB).toFixed(1)} MiB; ` +
        `/healthz: ${health.ok} answers, ${health.failed.length} failures, slowest ${health.maxMs} ms`);

      // Dead letters: each one names a corpus message that is invalid, once, with its code and reasons.
      const problems: string[] = [];
      const byIndex = new Map<number, CorpusMessage>(corpus.map((m) => [m.index, m]));
      const deadLettered = new Set<number>();
      const what = (m: CorpusMessage) => `#${m.index} ${m.kind}/${m.variant} ${preview(m)}`;
      for (const d of deadLetters) {
        const h = d.headers;
        const id = h['cvp-original-message-id'];
        const index = id === undefined ? undefined : indexOfMessageId.get(id);
        const m = index === undefined ? undefined : byIndex.get(index);
        if (!m) {
          problems.push(`dead letter for no corpus message: original id ${id}, code ${h['cvp-error-code']}, reason ${h['cvp-reason-1']}, body ${d.bodyPreview}`);
          continue;
        }
        if (deadLettered.has(m.index)) problems.push(`dead-lettered twice: ${what(m)}`);
        deadLettered.add(m.index);
        if (m.expect === 'valid') {
          problems.push(`valid message dead-lettered (${h['cvp-error-code']}: ${h['cvp-reason-1']}): ${what(m)}`);
          continue;
        }
        const count = Number(h['cvp-reason-count']);
        const reasons = Array.from({ length: Math.min(count, 20) }, (_, k) => h[`cvp-reason-${k + 1}`]);
        if (!h['cvp-error-code']) problems.push(`no cvp-error-code: ${what(m)}`);
        else if (m.code && h['cvp-error-code'] !== m.code) problems.push(`code ${h['cvp-error-code']} (${h['cvp-reason-1']}), expected ${m.code}: ${what(m)}`);
        if (!(count >= 1) || !h['cvp-reason-1']) problems.push(`no reason (count ${h['cvp-reason-count']}): ${what(m)}`);
        else if (reasons.some((r) => !r)) problems.push(`cvp-reason-count ${count} but not that many cvp-reason-N headers: ${what(m)}`);
        for (const p of m.reasonPaths) {
          if (!reasons.some((r) => r?.startsWith(`${p}:`))) problems.push(`no reason for ${p} (reasons: ${JSON.stringify(reasons)}): ${what(m)}`);
        }
        if (h['cvp-original-topic'] !== TOPIC_NAME) problems.push(`cvp-original-topic ${h['cvp-original-topic']}: ${what(m)}`);
        if (d.bodyHash !== sha256(bodyAsRead(m))) problems.push(`dead letter body is not the original body (got ${d.bodyPreview}): ${what(m)}`);
      }
      const notDeadLettered = expectInvalid.filter((m) => !deadLettered.has(m.index));
      for (const m of notDeadLettered) problems.push(`not dead-lettered: ${what(m)}`);

      // Valid events: one build each, one final result per image, nothing for anything else.
      const builds = f.buildsPerEvent();
      const results = f.finalResultsPerItem();
      const expectedGroups = new Set([...expectValid.map((m) => m.groupId!), ...Array.from({ length: WARM_UP }, (_, n) => `${warmTag}-${n}`)]);
      for (const m of expectValid) {
        const b = builds.get(m.groupId!) ?? 0;
        if (b !== 1) problems.push(`${b} builds for a valid event: ${what(m)}`);
        for (const item of m.items!) if ((results.get(item) ?? 0) !== 1) problems.push(`${results.get(item) ?? 0} final results for ${item}: ${what(m)}`);
      }
      for (const [group, n] of builds) {
        if (!expectedGroups.has(group)) {
          const m = corpus.find((c) => c.groupId === group || bodyAsRead(c).includes(`"${group}"`));
          problems.push(`${n} build(s) for group ${JSON.stringify(group)}, which is no valid event${m ? `: ${what(m)}` : ''}`);
        }
      }
      const expectedItems = validItems.length + 2 * WARM_UP;

      if (problems.length) {
        // The daemon's own account of the first few, by message id.
        const idOf = new Map([...indexOfMessageId].map(([id, i]) => [i, id]));
        const log = readFileSync(logFile, 'utf8').split('\n');
        const firstIds = [...new Set(problems.slice(0, 5).map((p) => /#(\d+) /.exec(p)?.[1]).filter((x): x is string => !!x))]
          .map((i) => idOf.get(Number(i))).filter((x): x is string => !!x);
        for (const id of firstIds) console.log(`daemon log for ${id}:\n${log.filter((l) => l.includes(id)).slice(0, 5).join('\n')}`);
        console.log(`${problems.length} problems (seed ${seed}, daemon log ${logFile}${process.env.CVP_TEST_KEEP ? '' : ', kept with CVP_TEST_KEEP=1'}):\n${problems.slice(0, 40).join('\n')}`);
      }

      expect(health.died).toBeNull();
      expect(health.failed).toEqual([]);
      expect(healthz.status).toBe(200);
      expect(tapped).toBe(WARM_UP + corpus.length);
      expect(indexOfMessageId.size).toBe(corpus.length);
      expect(deadLetters.length).toBe(expectInvalid.length);
      expect(notDeadLettered.length).toBe(0);
      expect(problems.slice(0, 20)).toEqual([]);
      expect(countMistakes(f, warmTag, WARM_UP)).toEqual({ missingBuilds: 0, extraBuilds: 0, missingResults: 0, extraResults: 0 });
      expect(f.jenkins.triggerCount(JOB)).toBe(WARM_UP + expectValid.length);
      expect(results.size).toBe(expectedItems);
      expect(afterRss - baselineRss).toBeLessThan(MAX_RSS_GROWTH);
    } finally {
      monitoring = false;
      await monitor;
      await dlq.close();
      await tap.close();
      if (daemon.running) {
        const stop = await daemon.terminate();
        expect(stop.code).toBe(0);
      }
    }
  }, 300_000);
});
