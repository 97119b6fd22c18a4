import { Loop } from '../../src/listener/loop';
import type { Clock } from '../../src/listener/ports';
import { MemoryLogger } from '../support/fakes';

// Jest's fake timers move Date.now() with the timers, so the loop's clock and its waits agree.
const clock: Clock = { now: () => Date.now() };

beforeEach(() => { jest.useFakeTimers({ now: 1_700_000_000_000 }); });
afterEach(() => { jest.useRealTimers(); });

async function runFor(loop: Loop, ms: number): Promise<void> {
  loop.start();
  await jest.advanceTimersByTimeAsync(ms);
  await loop.stop();
}

describe('the loop', () => {
  it('keeps a rate: a token bucket of 10 tokens every 100 ms gives 100 items a second, not a burst every idle wait', async () => {
    let tokens = 10;
    let refillAt = Date.now() + 100;
    const refill = () => { while (Date.now() >= refillAt) { tokens = 10; refillAt += 100; } };
    let handled = 0;
    let passes = 0;
    const loop = new Loop('rate', async () => {
      passes += 1;
      refill();
      const n = tokens;
      tokens = 0;
      handled += n;
      return n;
    }, async () => { refill(); return tokens > 0 ? Date.now() : refillAt; }, clock, new MemoryLogger(), { idleMs: 5_000 });
    await runFor(loop, 2_000);
    expect(handled).toBeGreaterThanOrEqual(190);
    expect(handled).toBeLessThanOrEqual(210);
    // One productive and one empty pass per refill: the loop waits for the tokens, it does not poll for them.
    expect(passes).toBeLessThanOrEqual(2 * 21);
  });

  it('never spins when work is said to be due but a pass finds none (another daemon holds it)', async () => {
    let passes = 0;
    const loop = new Loop('held', async () => { passes += 1; return 0; }, async () => Date.now(), clock, new MemoryLogger(), { idleMs: 5_000 });
    await runFor(loop, 2_000);
    expect(passes).toBeGreaterThanOrEqual(5);
    expect(passes).toBeLessThanOrEqual(11);
  });

  it('never spins when the due time keeps moving just ahead while passes find nothing', async () => {
    let passes = 0;
    const loop = new Loop('ahead', async () => { passes += 1; return 0; }, async () => Date.now() + 1, clock, new MemoryLogger(), { idleMs: 5_000 });
    await runFor(loop, 2_000);
    expect(passes).toBeLessThanOrEqual(12);
  });

  it('waits the idle time when nothing is due, and a wake() cuts it short', async () => {
    let passes = 0;
    const loop = new Loop('idle', async () => { passes += 1; return 0; }, async () => null, clock, new MemoryLogger(), { idleMs: 5_000 });
    loop.start();
    await jest.advanceTimersByTimeAsync(4_000);
    expect(passes).toBe(1);
    loop.wake();
    await jest.advanceTimersByTimeAsync(1);
    expect(passes).toBe(2);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(passes).toBe(3);
    await loop.stop();
  });

  it('backs off after failing passes and logs the same failure once', async () => {
    let passes = 0;
    const log = new MemoryLogger();
    const loop = new Loop('failing', async () => { passes += 1; throw new Error('journal is away'); }, async () => Date.now(), clock, log, { idleMs: 5_000, maxBackoffMs: 2_000 });
    await runFor(loop, 10_000);
    expect(passes).toBeGreaterThanOrEqual(4);
    expect(passes).toBeLessThanOrEqual(20);
    expect(log.lines.filter((l) => l.level === 'error')).toHaveLength(1);
  });
});
