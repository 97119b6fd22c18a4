import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { permanentError } from '../../errors';
import type { BuildRef, BuildStatus, Executor } from '../../listener/ports';

export interface CommandJob { run: string; args?: string[] }

export interface CommandExecutorOptions {
  jobs: Record<string, CommandJob>;
  /** Folder of the jobs' logs and exit files. */
  logsDir: string;
  /** Relative `run` paths resolve against this folder (the config file's). */
  baseDir: string;
  /** The environment the jobs inherit (PATH and the like); parameters are added on top. */
  env: Record<string, string | undefined>;
}

/**
 * The sandbox's executor: a job is a local program, started without a shell, its parameters as
 * environment variables. Exit 0 is SUCCESS, 3 is UNSTABLE, anything else FAILURE; a job that was
 * running when the daemon stopped is ABORTED. Each run leaves `<run id>.log` and `<run id>.exit`, so a
 * restarted daemon finds it instead of running it again.
 */
export class CommandExecutor implements Executor {
  readonly name = 'command';
  private readonly live = new Map<string, { done: boolean; kill: () => void }>();

  constructor(private readonly opts: CommandExecutorOptions) {
    mkdirSync(opts.logsDir, { recursive: true });
  }

  private paths(runId: string): { log: string; exit: string } {
    const safe = runId.replace(/[^\w.-]/g, '_');
    return { log: join(this.opts.logsDir, `${safe}.log`), exit: join(this.opts.logsDir, `${safe}.exit`) };
  }

  private refOf(runId: string): BuildRef {
    return { queueId: runId, number: 1, url: pathToFileURL(this.paths(runId).log).href };
  }

  async trigger(job: string, parameters: Record<string, string>, runId: string): Promise<BuildRef> {
    const def = Object.hasOwn(this.opts.jobs, job) ? this.opts.jobs[job] : undefined;
    if (!def) throw permanentError('JOB_NOT_FOUND', `no command job named ${job} (known: ${Object.keys(this.opts.jobs).join(', ')})`);
    const program = isAbsolute(def.run) ? def.run : resolve(this.opts.baseDir, def.run);
    const { log, exit } = this.paths(runId);
    const fd = openSync(log, 'a');
    const state = { done: false, kill: () => undefined as unknown };
    this.live.set(runId, state);
    const child = spawn(program, def.args ?? [], {
      cwd: this.opts.baseDir,
      env: { ...this.opts.env, ...parameters },
      stdio: ['ignore', fd, fd],
      shell: false,
    });
    closeSync(fd);
    state.kill = () => child.kill('SIGTERM');
    const finish = (code: string) => {
      if (state.done) return;
      state.done = true;
      writeFileSync(exit, code);
    };
    child.on('error', (err) => { writeFileSync(log, `cannot start ${program}: ${err.message}\n`, { flag: 'a' }); finish('127'); });
    child.on('exit', (code, signal) => finish(signal ? `signal ${signal}` : String(code)));
    return this.refOf(runId);
  }

  async locate(_job: string, runId: string): Promise<BuildRef | null> {
    return existsSync(this.paths(runId).log) ? this.refOf(runId) : null;
  }

  async status(_job: string, ref: BuildRef, runId: string): Promise<BuildStatus> {
    const { log, exit } = this.paths(runId);
    const current = { ...this.refOf(runId), ...ref };
    if (existsSync(exit)) {
      const code = readFileSync(exit, 'utf8').trim();
      const result = code === '0' ? 'SUCCESS' : code === '3' ? 'UNSTABLE' : code.startsWith('signal') ? 'ABORTED' : 'FAILURE';
      return { state: 'finished', ref: current, result };
    }
    if (this.live.has(runId)) return { state: 'running', ref: current };
    // Started by an earlier process that stopped before the job ended: its outcome is unknown.
    if (existsSync(log)) {
      writeFileSync(exit, 'signal SIGKILL');
      return { state: 'finished', ref: current, result: 'ABORTED' };
    }
    return { state: 'queued', ref: current };
  }

  /** A local program takes every parameter as an environment variable. */
  async declaredParameters(): Promise<string[] | null> {
    return null;
  }

  async cancel(_job: string, ref: BuildRef): Promise<void> {
    const state = ref.queueId ? this.live.get(ref.queueId) : undefined;
    if (state && !state.done) state.kill();
  }
}
