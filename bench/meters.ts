/**
 * How busy a bench process is and how much memory it holds: CPU time (every thread of the
 * process, the journal's SQLite thread included), event-loop utilization, and a sampled RSS peak.
 */
import { performance } from 'node:perf_hooks';

export const mb = (bytes: number): number => Math.round(bytes / 1048576 * 10) / 10;

/** A point in a process's life: the parent diffs two of them for a window's CPU and event-loop use. */
export interface Mark {
  ns: string;
  /** Process CPU time (user + system, all threads) since the process started. */
  cpuMs: number;
  eluActiveMs: number;
  eluIdleMs: number;
  rssMB: number;
  heapUsedMB: number;
  /** The main isolate's heap as reserved, and memory outside it (Buffers, native allocations such as SQLite's). */
  heapTotalMB: number;
  externalMB: number;
  /** Highest RSS sampled so far (or since the sampler was reset). */
  peakRssMB: number;
}

export interface Window { seconds: number; cpuMs: number; cpuPercent: number; eventLoopUtilization: number }

export function windowBetween(a: Mark, b: Mark): Window {
  const seconds = Number(BigInt(b.ns) - BigInt(a.ns)) / 1e9;
  const cpuMs = b.cpuMs - a.cpuMs;
  const active = b.eluActiveMs - a.eluActiveMs;
  const idle = b.eluIdleMs - a.eluIdleMs;
  return {
    seconds, cpuMs, cpuPercent: seconds > 0 ? cpuMs / (seconds * 10) : 0,
    eventLoopUtilization: active + idle > 0 ? active / (active + idle) : 0,
  };
}

/** Samples RSS every `everyMs` (unref'd), so short peaks between two reports are seen. */
export class MemorySampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(everyMs = 250) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  private sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
  }

  /** Forgets the peak so far (a new window starts). */
  reset(): void {
    this.peak = 0;
    this.sample();
  }

  mark(): Mark {
    this.sample();
    const cpu = process.cpuUsage();
    const elu = performance.eventLoopUtilization();
    const m = process.memoryUsage();
    return {
      ns: String(process.hrtime.bigint()), cpuMs: (cpu.user + cpu.system) / 1000, eluActiveMs: elu.active, eluIdleMs: elu.idle,
      rssMB: mb(m.rss), heapUsedMB: mb(m.heapUsed), heapTotalMB: mb(m.heapTotal), externalMB: mb(m.external), peakRssMB: mb(this.peak),
    };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
