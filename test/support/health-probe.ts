import { get } from 'node:http';

export interface ProbeSample { at: number; ms: number; status: number | string }

/**
 * Asks /healthz every `everyMs` on a fresh connection each time (as kubelet does), and keeps how
 * long each answer took, so a test can say the daemon answered throughout.
 */
export class HealthProbe {
  readonly samples: ProbeSample[] = [];
  private running = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly port: number, private readonly everyMs = 50, private readonly host = '127.0.0.1') {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const t = Date.now();
        this.samples.push({ at: t, ...(await this.once()) });
        await new Promise((r) => setTimeout(r, Math.max(0, this.everyMs - (Date.now() - t))));
      }
    })();
  }

  async stop(): Promise<ProbeSample[]> {
    this.running = false;
    await this.loop;
    return this.samples;
  }

  /** Samples that were not a 200 within `ms`. */
  late(ms: number): ProbeSample[] {
    return this.samples.filter((s) => s.status !== 200 || s.ms >= ms);
  }

  worstMs(): number {
    return Math.max(0, ...this.samples.map((s) => s.ms));
  }

  private once(): Promise<{ ms: number; status: number | string }> {
    const t = process.hrtime.bigint();
    const ms = () => Number(process.hrtime.bigint() - t) / 1e6;
    return new Promise((resolve) => {
      const req = get({ host: this.host, port: this.port, path: '/healthz', agent: false, headers: { connection: 'close' }, timeout: 2_000 }, (res) => {
        res.resume();
        res.on('end', () => resolve({ ms: ms(), status: res.statusCode ?? 0 }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err: NodeJS.ErrnoException) => resolve({ ms: ms(), status: err.code ?? err.message }));
    });
  }
}
