/** Running the built `cvp` binary (bin/cvp → dist/) from the end-to-end tests. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths';

export const CVP = join(packageRoot, 'bin', 'cvp');

export interface CvpResult { status: number | null; stdout: string; stderr: string }

/** The environment the tests run cvp in: this one, without a CVP_INTAKE_PORT the caller did not give. */
function envFor(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.CVP_INTAKE_PORT;
  return { ...env, ...extra };
}

export function cvp(args: string[], env?: Record<string, string>): CvpResult {
  const r = spawnSync(CVP, args, { encoding: 'utf8', timeout: 60_000, cwd: packageRoot, env: envFor(env) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function cvpAsync(args: string[], env?: Record<string, string>): Promise<CvpResult> {
  return new Promise((resolve) => {
    const child = spawn(CVP, args, { cwd: packageRoot, env: envFor(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A long-running process (a daemon, `npm start`) whose output the test reads as it comes. */
export class Listener {
  out = '';
  err = '';
  exit: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (c) => { this.out += c; });
    child.stderr!.on('data', (c) => { this.err += c; });
    this.exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }
}

export function listen(args: string[], env?: Record<string, string>): Listener {
  return new Listener(spawn(CVP, ['listen', ...args], { cwd: packageRoot, env: envFor(env) }));
}

/**
 * A copy of examples/ (the sandbox's configuration and its job scripts) in `dir`, so a test runs
 * the sandbox exactly as shipped while its journal (../var/sandbox.db, relative to the file) lands
 * in `dir`/var instead of the repository's.
 */
export function sandboxCopy(dir: string): string {
  mkdirSync(dir, { recursive: true });
  cpSync(join(packageRoot, 'examples'), join(dir, 'examples'), { recursive: true });
  return join(dir, 'examples', 'sandbox.yaml');
}
