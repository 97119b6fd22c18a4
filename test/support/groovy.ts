/**
 * Runs Debian's `groovy` (2.4) for the Jenkins library tests. Groovy needs JAVA_HOME; Debian's default
 * path does not exist on every machine, so it is derived from the `java` on PATH when unset or wrong.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface GroovyRun {
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The first executable named `name` on PATH, or null. */
export function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** JAVA_HOME when it holds bin/java; otherwise the home of the `java` on PATH (symlinks resolved). */
export function javaHome(): string {
  const current = process.env.JAVA_HOME;
  if (current && fs.existsSync(path.join(current, 'bin', 'java'))) return current;
  const java = onPath('java');
  if (!java) throw new Error('no java on PATH: Groovy needs Java (Debian: default-jre-headless)');
  return path.dirname(path.dirname(fs.realpathSync(java)));
}

/** Runs groovy with these arguments; resolves with its exit status and output (it never rejects on a non-zero exit). */
export function runGroovy(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<GroovyRun> {
  const groovy = onPath('groovy');
  if (!groovy) return Promise.reject(new Error('groovy is not installed (Debian: apt-get install -y groovy)'));
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(groovy, args, {
      cwd: opts.cwd,
      // Short-lived JVMs: the C1 compiler only and the serial collector about halve their CPU time.
      env: { ...process.env, JAVA_HOME: javaHome(), JAVA_OPTS: `${process.env.JAVA_OPTS ?? ''} -XX:TieredStopAtLevel=1 -XX:+UseSerialGC`.trim() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ args, code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** A readable account of a run, for assertion messages. */
export function describeRun(run: GroovyRun): string {
  return [`groovy ${run.args.join(' ')}`, `exit ${run.code ?? run.signal} after ${run.ms} ms`, '--- stdout', run.stdout.trim(), '--- stderr', run.stderr.trim()].join('\n');
}
