/**
 * Property-based fuzzing (fast-check) of what event data goes through first: the parser, the
 * validator, the rules' checks and the notice renderer. Whatever the input, each gives a verdict or
 * a coded error (CvpError) within a time bound, never another exception. Seeded: the seed is
 * printed, and CVP_FUZZ_SEED=<seed> replays a run; CVP_FUZZ_RUNS sets the number of runs (default
 * small, so it stays fast in `npm test`).
 */
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { durationMs } from '../../src/config/config';
import { CvpError } from '../../src/errors';
import type { GateReason, Run, RunContext } from '../../src/listener/domain';
import { actionNotice, decisionNotice, eventNotice, outcomeNotice, SECTION_MAX, shortenNotice, supersededNotice, TEXT_MAX } from '../../src/listener/effects/notices';
import { Router } from '../../src/listener/intake/router';
import { compileRules } from '../../src/listener/intake/rules';
import type { Notice } from '../../src/listener/ports';
import { packageRoot, schemasDir } from '../../src/paths';
import { EventValidator } from '../../src/validator/event-validator';
import { safeParse } from '../../src/validator/safe-parse';
import { GROUP_TOPIC, towerRule } from '../support/core-harness';

const SEED = Number(process.env.CVP_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.CVP_FUZZ_RUNS ?? 150);
/** Per call: generous for a shared 2-core machine; the quadratic validation took minutes. */
const BOUND_MS = 1_000;

beforeAll(() => {
  console.log(`fuzz seed ${SEED}, ${RUNS} runs per property (replay: CVP_FUZZ_SEED=${SEED})`);
});

function within<T>(f: () => T): T {
  const t = process.hrtime.bigint();
  const value = f();
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (ms > BOUND_MS) throw new Error(`took ${ms.toFixed(0)} ms, over the bound of ${BOUND_MS} ms`);
  return value;
}

/** Runs f; a CvpError is a verdict, any other exception fails the property. */
function verdictOrCoded<T>(f: () => T): T | CvpError {
  try {
    return within(f);
  } catch (err) {
    if (err instanceof CvpError) return err;
    throw err;
  }
}

const examples = readdirSync(join(packageRoot, 'examples/messages')).filter((f) => f.endsWith('.json'))
  .map((f) => ({ kind: f.replace(/\.json$/, ''), body: JSON.parse(readFileSync(join(packageRoot, 'examples/messages', f), 'utf8')) as unknown }));
const validator = new EventValidator(schemasDir);
const topics = [...validator.knownKinds().map((k) => (k.startsWith('freshmaker') ? `VirtualTopic.eng.${k}` : `VirtualTopic.eng.ci.${k}`)), 'VirtualTopic.eng.ci.nope.test.queued', ''];

/** Text of every kind: any code point (lone surrogates and controls too), and markup characters. */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: fc.constantFrom('<', '>', '&', '|', '!', '@', '\r', '\n', '\u0085', '\u202e', '\u2066', '\u200f', 'a', ' ', '*', '`'), maxLength: 200 }),
  fc.constantFrom('<!channel>', '<https://evil.example|x>', '&amp;', '__proto__', 'constructor', ''),
  fc.string({ maxLength: 5_000 }),
);

/** A JSON value, with the odd huge array or long string. */
const jsonish: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 20_000 }).map((n) => Array.from({ length: n }, () => ({}))) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 200_000 }).map((n) => 'x'.repeat(n)) },
);

/** An example message with values replaced at random paths: mostly valid in shape, wrong in places. */
const mutatedExample = fc.record({
  example: fc.constantFrom(...examples),
  edits: fc.array(fc.tuple(fc.array(fc.oneof(fc.constantFrom('artifact', 'images', 'test', 'contact', 'version', 'id', 'nvr', 'system', 'run', 'pipeline', 'component', 'issuer'), fc.nat(5)), { minLength: 1, maxLength: 4 }), jsonish), { maxLength: 5 }),
}).map(({ example, edits }) => {
  const body = JSON.parse(JSON.stringify(example.body)) as Record<string, unknown>;
  for (const [path, value] of edits) {
    let cur: unknown = body;
    for (const seg of path.slice(0, -1)) {
      if (cur === null || typeof cur !== 'object') break;
      cur = (cur as Record<string | number, unknown>)[seg];
    }
    if (cur !== null && typeof cur === 'object') (cur as Record<string | number, unknown>)[path[path.length - 1]] = value;
  }
  return { kind: example.kind, body };
});

describe('fuzzing: any input gives a verdict or a coded error, in bounded time', () => {
  it('the parser', () => {
    const raw = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.json({ maxDepth: 6 }),
      fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1))),
      fc.integer({ min: 1, max: 100_000 }).map((n) => '['.repeat(n)),
      fc.constantFrom('{"__proto__": {"x": 1}}', '{"\\u005f_proto__": 1}', '{"constructor": {"prototype": {}}}'),
      fc.integer({ min: 0, max: 2_000_000 }).map((n) => JSON.stringify({ s: 'y'.repeat(n) })),
    );
    fc.assert(fc.property(raw, (input) => {
      const out = verdictOrCoded(() => safeParse(input, { maxBytes: 1024 * 1024, maxDepth: 32 }));
      if (out instanceof CvpError) expect(['MESSAGE_TOO_LARGE', 'MESSAGE_TOO_DEEP', 'MESSAGE_NOT_JSON']).toContain(out.code);
      else expect(({} as Record<string, unknown>).x).toBeUndefined();
    }), { seed: SEED, numRuns: RUNS });
  });

  it('the validator', () => {
    const input = fc.oneof(
      fc.record({ topic: fc.constantFrom(...topics), body: jsonish }),
      fc.record({ topic: fc.constantFrom(...topics), body: mutatedExample.map((m) => m.body) }),
      mutatedExample.map((m) => ({ topic: topics.find((t) => t.endsWith(m.kind)) ?? topics[0], body: m.body as unknown })),
    );
    fc.assert(fc.property(input, ({ topic, body }) => {
      const v = verdictOrCoded(() => validator.validate(topic, body));
      expect(v).not.toBeInstanceOf(CvpError);
      if (v instanceof CvpError || v.valid) return;
      expect(['MESSAGE_INVALID', 'UNKNOWN_TOPIC', 'UNKNOWN_VERSION']).toContain(v.code);
      expect(v.reasons.length).toBeGreaterThan(0);
      expect(v.reasons.length).toBeLessThanOrEqual(50);
      for (const r of v.reasons) expect(r.length).toBeLessThanOrEqual(1000);
    }), { seed: SEED, numRuns: RUNS });
  });

  it('check evaluation', () => {
    const fields = fc.oneof(
      fc.constantFrom('$.artifact.component', '$.artifact.images[0].issuer', '$..issuer', '$.artifact.images[*].name', "$.artifact.images[?(@.issuer.startsWith('fresh'))]",
        '$.artifact.images[?(@.name == "x")].full_name', '$.artifact.images[-1:]', '$.__proto__', '$.constructor.name', '$[(@.length-1)]', '$..*'),
      fc.string({ maxLength: 30 }).map((s) => `$.${s}`),
    );
    const expected = fc.constantFrom('freshmaker', '^Ansible Tower$', '.', '\\[\\]', '');
    const event = fc.oneof(mutatedExample.map((m) => m.body as unknown), jsonish.filter((j) => j !== null && typeof j === 'object' && !Array.isArray(j)));
    fc.assert(fc.property(event, fields, expected, (e, field, re) => {
      // Through the rules as the daemon compiles them: plans or none, never an exception.
      const rules = compileRules([{ ...towerRule, checks: [{ field, expected: re }] }], { executor: 'jenkins', timeoutMs: 1, productChannels: new Map(), durationMs });
      const plans = verdictOrCoded(() => new Router(rules, { maxParameterLength: 4096 }).route(GROUP_TOPIC, e as Record<string, unknown>, 'm'));
      expect(Array.isArray(plans)).toBe(true);
    }), { seed: SEED, numRuns: RUNS });
  });

  it('routing and the notice renderer', () => {
    const rules = compileRules([{ ...towerRule, checks: [], supersede: true }], { executor: 'jenkins', timeoutMs: 1, productChannels: new Map(), durationMs });
    const router = new Router(rules, { maxParameterLength: 4096 });
    const context: fc.Arbitrary<RunContext> = fc.record({
      topic: text, artifactType: text, artifactId: text, component: fc.option(text, { nil: undefined }), advisory: fc.option(text, { nil: undefined }),
      images: fc.array(fc.record({ name: text, nvr: fc.option(text, { nil: undefined }), fullName: fc.option(text, { nil: undefined }) }), { maxLength: 60 }),
      messageId: text, jobs: fc.option(fc.array(text, { maxLength: 30 }), { nil: undefined }),
    });
    const reason: fc.Arbitrary<GateReason> = fc.record({ testcase: text, item: text, type: text, outcome: text, why: text, ref_url: fc.option(text, { nil: undefined }) });
    const urls = fc.option(fc.oneof(text, fc.webUrl()), { nil: undefined });
    fc.assert(fc.property(context, text, text, urls, fc.array(reason, { maxLength: 40 }), fc.integer(), (c, job, why, url, reasons, at) => {
      const run = { id: 'run-1', rule: 'r', executor: 'jenkins', job, parameters: {}, testcase: 'a.b.c', items: [], context: c, timeoutMs: 1, channel: '#c' } as unknown as Run;
      const notices: Notice[] = within(() => [
        eventNotice(run, url, { advisoryUrl: 'https://errata.example.com/{id}' }),
        outcomeNotice(run, 'FAILED', url, why, {}),
        supersededNotice(run, why, url, {}),
        decisionNotice({ context: c, product: why, decision: 'fail', mode: 'off', action: why, reasons, changed: true }, {}),
        actionNotice({ context: c, what: why, who: job, at }, {}),
      ]);
      for (const n of notices) {
        for (const form of [n, shortenNotice(n, 1)!, shortenNotice(n, 2)!]) {
          expect(form.blocks.length).toBeLessThanOrEqual(50);
          expect(form.text.length).toBeLessThanOrEqual(TEXT_MAX);
          for (const b of form.blocks as Array<{ text?: { text: string }; elements?: Array<{ text: string }> }>) {
            const texts = [b.text?.text ?? '', ...(b.elements ?? []).map((e) => e.text)];
            for (const t of texts) {
              expect(t.length).toBeLessThanOrEqual(SECTION_MAX);
              // No markup but CVP's own links: every < opens a link to http(s).
              expect(t.replace(/<https?:\/\/[^<>|\s]+\|[^<>]*>/g, '')).not.toMatch(/[<>]/);
              expect(t).not.toMatch(/[\r\u0080-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
            }
          }
          expect(form.text.replace(/<https?:\/\/[^<>|\s]+\|[^<>]*>/g, '')).not.toMatch(/[<>]/);
        }
      }
      // The router over a fuzzed event: plans or nothing, never an exception.
      verdictOrCoded(() => router.route(GROUP_TOPIC, { artifact: { type: c.artifactType, id: c.artifactId, images: c.images } }, 'm'));
    }), { seed: SEED, numRuns: RUNS });
  });
});
