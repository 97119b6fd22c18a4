/**
 * A throwaway ActiveMQ for the benchmark, started the way test/support/activemq.ts does it (that
 * file is outside tsconfig's include): Debian's activemq.jar without its wrapper script, the
 * project's test/broker/activemq.xml, STOMP and OpenWire on free loopback ports, a data directory
 * the caller owns. Up when a raw STOMP CONNECT gets CONNECTED.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { packageRoot } from '../src/paths';

export const HOST = '127.0.0.1';

export interface BenchBroker {
  stompPort: number;
  pid: number | undefined;
  logFile: string;
  /** SIGTERM, SIGKILL after 15 s. */
  stop(): Promise<void>;
  /** For exit handlers: SIGKILL now, no waiting. */
  kill(): void;
}

async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => net.createServer());
  try {
    const ports: number[] = [];
    for (const s of servers) {
      await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(0, HOST, () => resolve()); });
      ports.push((s.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

function probeStomp(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let received = '';
    const socket = net.connect({ port, host: HOST });
    const done = (ok: boolean): void => { clearTimeout(timer); socket.destroy(); resolve(ok); };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('CONNECT\naccept-version:1.2\nhost:localhost\nheart-beat:0,0\n\n\0'));
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (received.includes('\0')) done(received.replace(/^[\r\n]+/, '').startsWith('CONNECTED'));
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}

function findJava(): string {
  const dirs = [process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin') : '', ...(process.env.PATH ?? '').split(path.delimiter)];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = path.join(dir, 'java');
    try { fs.accessSync(candidate, fs.constants.X_OK); return fs.realpathSync(candidate); } catch { /* next */ }
  }
  throw new Error('java not found: run `node scripts/ensure-test-deps.js`');
}

const LOG4J = `log4j.rootLogger=WARN, logfile
log4j.appender.logfile=org.apache.log4j.FileAppender
log4j.appender.logfile.file=\${activemq.data}/activemq.log
log4j.appender.logfile.layout=org.apache.log4j.PatternLayout
log4j.appender.logfile.layout.ConversionPattern=%d | %-5p | %m | %c%n
`;

/** Starts a broker whose conf/ and data/ live in `baseDir` (the caller removes it). */
export async function startBenchBroker(baseDir: string, startTimeoutMs = 60_000): Promise<BenchBroker> {
  const home = process.env.ACTIVEMQ_HOME || '/usr/share/activemq';
  const jar = path.join(home, 'bin', 'activemq.jar');
  if (!fs.existsSync(jar)) throw new Error(`${jar} not found: run \`node scripts/ensure-test-deps.js\` (Debian package activemq)`);
  const [stompPort, openwirePort] = await freePorts(2);
  const conf = path.join(baseDir, 'conf');
  const data = path.join(baseDir, 'data');
  fs.mkdirSync(conf, { recursive: true });
  fs.mkdirSync(data, { recursive: true });
  fs.writeFileSync(path.join(conf, 'log4j.properties'), LOG4J);
  const props: Record<string, string> = {
    'activemq.home': home, 'activemq.base': baseDir, 'activemq.conf': conf, 'activemq.data': data,
    'cvp.stomp.port': String(stompPort), 'cvp.openwire.port': String(openwirePort),
    'log4j.configuration': `file:${path.join(conf, 'log4j.properties')}`, 'java.io.tmpdir': data,
  };
  const config = path.join(packageRoot, 'test', 'broker', 'activemq.xml');
  const out = fs.openSync(path.join(baseDir, 'broker.out'), 'a');
  let child: ChildProcess;
  try {
    child = spawn(findJava(), ['-Xms64m', '-Xmx512m', ...Object.entries(props).map(([k, v]) => `-D${k}=${v}`),
      '-jar', jar, 'start', `xbean:file:${config}`], { cwd: baseDir, stdio: ['ignore', out, out] });
  } finally {
    fs.closeSync(out);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const broker: BenchBroker = {
    stompPort,
    pid: child.pid,
    logFile: path.join(data, 'activemq.log'),
    kill: () => { if (alive()) child.kill('SIGKILL'); },
    stop: async () => {
      if (!alive()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + startTimeoutMs;
  while (!(await probeStomp(stompPort, 1_000))) {
    if (!alive() || Date.now() > deadline) {
      broker.kill();
      const tail = (f: string): string => { try { return fs.readFileSync(f, 'utf8').split('\n').slice(-20).join('\n'); } catch { return '(none)'; } };
      throw new Error(`ActiveMQ did not answer STOMP on ${HOST}:${stompPort}\n${tail(path.join(baseDir, 'broker.out'))}\n${tail(broker.logFile)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return broker;
}
