/**
 * `npm start` under a supervisor: SIGTERM to the npm process itself (what systemd, a container
 * runtime or a process manager sends) stops the daemon, which frees the intake's port, and leaves
 * no process behind. npm runs the script with `sh -c`; the script execs the daemon, so npm's
 * forwarded signal reaches it.
 *
 * It runs the real `npm start` (a build, then the sandbox of examples/sandbox.yaml with its journal
 * var/sandbox.db), on a free port given by CVP_INTAKE_PORT. No event is sent.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { packageRoot } from '../../src/paths';
import { freePorts } from '../support/activemq';
import { eventually } from '../support/eventually';
import { Listener } from './cvp-cli';

/** Whether something accepts connections on the loopback port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** The processes below `pid`: children, their children, ... (Linux /proc). */
function descendantsOf(pid: number): number[] {
  let text = '';
  try {
    text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  } catch {
    return [];
  }
  const children = text ? text.split(/\s+/).map(Number) : [];
  return children.flatMap((c) => [c, ...descendantsOf(c)]);
}

const commandLine = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '(gone)';
  }
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start', () => {
  it('stops the daemon and frees its port within 20 s of a SIGTERM to the npm process', async () => {
    const [port] = await freePorts(1);
    const env = { ...process.env, CVP_INTAKE_PORT: String(port) };
    const npm = new Listener(spawn('npm', ['start'], { cwd: packageRoot, env }));
    let below: number[] = [];
    try {
      // The script builds first (tsc), which takes a while on a busy machine.
      await eventually('npm start to listen', () => npm.out.includes(`send events to http://127.0.0.1:${port}/events`), 150_000);
      expect(await accepts(port)).toBe(true);
      below = descendantsOf(npm.child.pid!);
      // npm's shell exec'd node itself (with its memory flags): no shell is left between npm and the daemon.
      expect(below.map(commandLine)).toContainEqual(expect.stringMatching(/^node (--\S+ )*dist\/src\/cli\/main\.js listen --config examples\/sandbox\.yaml$/));

      const signalled = Date.now();
      npm.child.kill('SIGTERM');
      await eventually('the port to be free', async () => !(await accepts(port)), 20_000);
      // Nothing left behind: no orphan of npm's shell still running the daemon.
      await eventually(`every process npm started to end (${below.map(commandLine).join('; ')})`, () => below.every((p) => !alive(p)), Math.max(1, 20_000 - (Date.now() - signalled)));
      expect(Date.now() - signalled).toBeLessThan(20_000);
      await npm.exit;
      // It stopped cleanly (its own SIGTERM handling), not killed.
      expect(npm.err).toMatch(/"msg":"stopping"/);
      expect(npm.err).toMatch(/"msg":"stopped"/);
    } finally {
      npm.child.kill('SIGKILL');
      for (const p of below) if (alive(p)) process.kill(p, 'SIGKILL');
    }
  }, 200_000);
});
