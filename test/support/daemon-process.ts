import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths';

/** The built `cvp listen`, as a separate process the test can SIGKILL, with its output kept in files. */
export class DaemonProcess {
  private child: ChildProcess | null = null;
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null;
  private starts = 0;
  stdout = '';
  stderrTail = '';

  constructor(private readonly configFile: string, private readonly logDir: string, private readonly env: Record<string, string> = {}) {}

  start(): void {
    this.starts += 1;
    this.died = null;
    const log: WriteStream = createWriteStream(join(this.logDir, `daemon-${this.starts}.log`));
    const child = spawn(join(packageRoot, 'bin', 'cvp'), ['listen', '--config', this.configFile], {
      cwd: packageRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c: Buffer) => { this.stdout += c.toString(); });
    child.stderr!.pipe(log);
    child.stderr!.on('data', (c: Buffer) => { this.stderrTail = (this.stderrTail + c.toString()).slice(-4000); });
    this.child = child;
    this.exit = new Promise((resolve) => child.on('exit', (code, signal) => {
      if (this.child === child && signal !== 'SIGKILL') this.died = `exited with ${code ?? signal}: ${this.stderrTail}`;
      resolve({ code, signal });
    }));
  }

  private died: string | null = null;

  /** Throws, with the end of its log, if the daemon ended on its own. */
  assertAlive(): void {
    if (this.died) throw new Error(`the daemon ${this.died}`);
  }

  /** Waits for the process to end on its own (e.g. a refused start), at most `timeoutMs`. */
  async ended(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
    if (!this.exit) throw new Error('not started');
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
    const r = await Promise.race([this.exit, timer]);
    if (r === 'timeout') throw new Error(`the daemon did not end within ${timeoutMs} ms`);
    this.child = null;
    return { ...r, stderr: this.stderrTail };
  }

  get running(): boolean {
    return this.child !== null;
  }

  get startCount(): number {
    return this.starts;
  }

  /** The running daemon's process id (bin/cvp is node itself), e.g. to read /proc/<pid>/status. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async kill(): Promise<void> {
    if (!this.child) return;
    this.child.kill('SIGKILL');
    await this.exit;
    this.child = null;
  }

  /** SIGTERM, and how the process ended and how long it took. */
  async terminate(): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    if (!this.child) throw new Error('not running');
    const t = Date.now();
    this.child.kill('SIGTERM');
    const r = await this.exit!;
    this.child = null;
    return { ...r, ms: Date.now() - t };
  }
}
