/**
 * Validation costs what the message costs: a verdict in one pass that stops at the first
 * violation, reasons collected only for invalid messages, over the first items of each array, at
 * most 50 of them. Time bounds here are the issue's own (hostile input stays bounded), loose enough
 * for a shared 2-core machine.
 */
import { schemasDir } from '../../src/paths';
import { pruneArrays } from '../../src/validator/bounded-reasons';
import { DEFAULT_MAX_REASONS, EventValidator } from '../../src/validator/event-validator';
import { safeParse } from '../../src/validator/safe-parse';
import { emptyImagesEvent, exampleMessage as example, GROUP_QUEUED as GROUP } from '../support/hostile-input';

const BREW = 'VirtualTopic.eng.ci.brew-build.test.complete';

function timed<T>(f: () => T): { value: T; ms: number } {
  const t = process.hrtime.bigint();
  const value = f();
  return { value, ms: Number(process.hrtime.bigint() - t) / 1e6 };
}

describe('validation stays bounded', () => {
  const validator = new EventValidator(schemasDir);
  // The every-error validators are compiled on first use: compile them before anything is timed.
  beforeAll(() => { validator.validate(GROUP, { version: '1.0.0' }); validator.validate(BREW, { version: '1.0.0' }); });

  it('rejects the 120,000-empty-images group event (360 KB) in bounded time and memory, with at most 50 reasons', () => {
    const raw = emptyImagesEvent();
    expect(raw.length).toBeGreaterThan(350_000);
    expect(raw.length).toBeLessThan(1024 * 1024);
    const heapBefore = process.memoryUsage().heapUsed;
    const { value: v, ms } = timed(() => validator.validate(GROUP, safeParse(raw)));
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    expect(v.valid).toBe(false);
    if (v.valid) return;
    expect(v.code).toBe('MESSAGE_INVALID');
    expect(v.reasons[0]).toBe('$.artifact.images: expected at most 1000 item(s), found an array of 120000');
    expect(v.reasons).toContain('$.artifact.images[0].nvr: required, but missing');
    expect(v.reasons).toHaveLength(DEFAULT_MAX_REASONS);
    expect(v.reasons[v.reasons.length - 1]).toMatch(/^… and more: the listing stops at 50 reasons/);
    // It took about 280 s and 872 MB before (every error collected, 720,000 reasons).
    expect(ms).toBeLessThan(2_000);
    expect(heapGrowth).toBeLessThan(64 * 1024 * 1024);
  });

  it('costs about the same for 1,000 and 100,000 broken items: linear, not the square', () => {
    // Arrays cut by maxItems first, so the every-error pass never sees more than a few items.
    const small = emptyImagesEvent(1_000);
    const big = emptyImagesEvent(100_000);
    const a = timed(() => validator.validate(GROUP, JSON.parse(small)));
    const b = timed(() => validator.validate(GROUP, JSON.parse(big)));
    expect(a.value.valid || b.value.valid).toBe(false);
    expect(b.ms).toBeLessThan(1_000);
  });

  it('keeps the first violation even when it lies beyond the items the reasons look at', () => {
    const e = example('redhat-container-group.test.queued') as { artifact: { images: Array<Record<string, unknown>> } };
    const image = e.artifact.images[0];
    e.artifact.images = Array.from({ length: 900 }, (_, i) => ({ ...image, nvr: `ansible-tower-container-3.5.${i}-1` }));
    e.artifact.images[700] = { ...image, nvr: 'not an nvr' };
    const v = validator.validate(GROUP, e);
    expect(v).toEqual({ valid: false, code: 'MESSAGE_INVALID', reasons: [expect.stringMatching(/^\$\.artifact\.images\[700\]\.nvr: expected a string matching/)] });
  });

  it('lists every violation of a small message, as before', () => {
    const e = example('redhat-container-group.test.queued') as { artifact: Record<string, unknown>; test: Record<string, unknown> };
    delete e.artifact.errata_id;
    e.test.category = 'guesswork';
    const v = validator.validate(GROUP, e);
    expect(v.valid).toBe(false);
    if (v.valid) return;
    expect(v.reasons).toEqual(expect.arrayContaining([
      '$.artifact.errata_id: required, but missing',
      expect.stringMatching(/^\$\.test\.category: expected one of "functional", .*found "guesswork"$/),
    ]));
    expect(v.reasons).toHaveLength(2);
  });

  it('bounds reasons for 10,000 wrong dependencies of a build (within its maxItems)', () => {
    const e = example('brew-build.test.complete') as { artifact: Record<string, unknown> };
    e.artifact.dependencies = Array.from({ length: 10_000 }, (_, i) => `broken ${i}`);
    const { value: v, ms } = timed(() => validator.validate(BREW, e));
    expect(v.valid).toBe(false);
    if (v.valid) return;
    expect(v.reasons.length).toBeLessThanOrEqual(DEFAULT_MAX_REASONS);
    expect(v.reasons.filter((r) => r.startsWith('$.artifact.dependencies['))).toHaveLength(10);
    expect(ms).toBeLessThan(1_000);
  });

  it('cuts long reason lines, and takes a smaller bound when asked', () => {
    const small = new EventValidator(schemasDir, { maxReasons: 3, keptItems: 2 });
    const v = small.validate(GROUP, JSON.parse(emptyImagesEvent(500)));
    expect(v.valid).toBe(false);
    if (v.valid) return;
    expect(v.reasons).toHaveLength(3);
    expect(v.reasons[2]).toBe('… and more: the listing stops at 3 reasons (arrays are looked into 2 items deep)');
    const long = small.validate(GROUP, { version: 'x'.repeat(100_000) });
    expect(long.valid).toBe(false);
    if (!long.valid) expect(long.reasons.every((r) => r.length <= 1000)).toBe(true);
  });
});

describe('pruneArrays', () => {
  it('keeps the first items of every array, at any depth, and plain keys as keys', () => {
    const withProto = JSON.parse('{"__proto__": {"polluted": true}, "a": [[1, 2, 3], [4], 5, 6]}') as unknown;
    const pruned = pruneArrays(withProto, 2) as Record<string, unknown>;
    expect(pruned.a).toEqual([[1, 2], [4]]);
    expect(Object.getPrototypeOf(pruned)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(pruned, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
