/**
 * A bench process of its own (a measurement, or the stand-ins), forked with an IPC channel: the
 * parent sends it requests and waits for replies of a given type. Its stderr (the daemon's log)
 * goes to a file, whose end is quoted when the child fails.
 */
import { type ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ChildMessage { type: string }

export interface Child<In extends ChildMessage, Out extends ChildMessage> {
  readonly label: string;
  readonly pid: number | undefined;
  send(m: In): void;
  /** The next message of this type (an `error` message from the child rejects instead). */
  next<T extends Out['type']>(type: T, timeoutMs?: number): Promise<Extract<Out, { type: T }>>;
  /** Messages of this type as they come, without waiting (progress reports). */
  on<T extends Out['type']>(type: T, handler: (m: Extract<Out, { type: T }>) => void): void;
  kill(): void;
  exited: Promise<void>;
}

const running = new Set<ChildProcess>();

/** For exit handlers: SIGKILL every child still running. */
export function killChildren(): void {
  for (const c of running) c.kill('SIGKILL');
}

/**
 * The flags the measured processes run with: BENCH_NODE_OPTIONS, or else the ones `cvp` ships with
 * (its shebang in bin/cvp), so the bench measures the heap the daemon is deployed with.
 */
export function measuredNodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.BENCH_NODE_OPTIONS !== undefined) return env.BENCH_NODE_OPTIONS.split(' ').filter(Boolean);
  const shebang = fs.readFileSync(path.join(__dirname, '..', '..', 'bin', 'cvp'), 'utf8').split('\n')[0];
  return shebang.split(/\s+/).filter((word) => word.startsWith('--'));
}

/**
 * Forks `script` (a file beside this one in dist/bench). With BENCH_CPU_PROF=<dir>, the child
 * writes a V8 CPU profile per thread (the daemon's event loop and the journal's SQLite thread)
 * into <dir>/<label>/ when it exits.
 */
export function forkChild<In extends ChildMessage, Out extends ChildMessage>(script: string, label: string, logDir: string, nodeFlags: string[] = []): Child<In, Out> {
  const logFile = path.join(logDir, `${label}.log`);
  const fd = fs.openSync(logFile, 'w');
  const profDir = process.env.BENCH_CPU_PROF ? path.join(process.env.BENCH_CPU_PROF, label) : undefined;
  let child: ChildProcess;
  try {
    child = fork(path.join(__dirname, script), [], {
      stdio: ['ignore', 'inherit', fd, 'ipc'],
      execArgv: [...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []), ...nodeFlags],
    });
  } finally {
    fs.closeSync(fd);
  }
  running.add(child);
  const inbox: Out[] = [];
  const handlers = new Map<string, (m: Out) => void>();
  let wake: () => void = () => undefined;
  let exitedWhy: string | undefined;
  const exited = new Promise<void>((resolve) => child.on('exit', (code, signal) => {
    running.delete(child);
    exitedWhy = `exited (code ${code}, signal ${signal})`;
    wake();
    resolve();
  }));
  child.on('message', (m: Out) => {
    const h = handlers.get(m.type);
    if (h) h(m);
    else { inbox.push(m); wake(); }
  });
  const tail = (): string => {
    try { return fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n'); } catch { return '(no log)'; }
  };
  return {
    label,
    pid: child.pid,
    send: (m) => { if (child.connected) child.send(m); },
    on: (type, handler) => { handlers.set(type, handler as (m: Out) => void); },
    kill: () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); },
    exited,
    next: async (type, timeoutMs) => {
      const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
      for (;;) {
        const i = inbox.findIndex((m) => m.type === type || m.type === 'error');
        if (i >= 0) {
          const m = inbox.splice(i, 1)[0] as Out & { error?: string };
          if (m.type === 'error') throw new Error(`${label}: ${m.error}\n--- ${logFile} ---\n${tail()}`);
          return m as Extract<Out, { type: typeof type }>;
        }
        if (exitedWhy) throw new Error(`${label}: ${exitedWhy} before '${type}'\n--- ${logFile} ---\n${tail()}`);
        if (Date.now() > deadline) throw new Error(`${label}: no '${type}' within ${timeoutMs} ms\n--- ${logFile} ---\n${tail()}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (deadline !== Infinity) setTimeout(resolve, Math.max(0, deadline - Date.now()) + 1);
        });
      }
    },
  };
}

/** The CPU time (ms) a process has used so far, from /proc (Linux); null elsewhere or once it has gone. */
export function processCpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) in parentheses: utime is the 14th, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 1000 / 100;
  } catch {
    return null;
  }
}
