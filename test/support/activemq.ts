/**
 * A real ActiveMQ broker for the integration and end-to-end tests.
 *
 * Debian's `activemq` package is used without its wrapper script (which forces its own base
 * directory, a 512 MB heap and the AMQP/MQTT ports): the broker runs as
 *
 *   java -Xms64m -Xmx512m -Dactivemq.base=<tmp> -Dactivemq.conf=<tmp>/conf
 *        -Dactivemq.data=<tmp>/data -Dcvp.stomp.port=<n> -Dcvp.openwire.port=<n>
 *        -jar /usr/share/activemq/bin/activemq.jar start xbean:file:test/broker/activemq.xml
 *
 * with STOMP and OpenWire on 127.0.0.1 only. It is "up" when a real STOMP CONNECT gets a
 * CONNECTED frame. The broker's own log goes to <tmp>/data/activemq.log and the JVM's
 * stdout/stderr to <tmp>/broker.out; both are quoted in start errors.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

export const BROKER_HOST = '127.0.0.1' as const;
export const DEFAULT_CONFIG_FILE = path.resolve(__dirname, '..', 'broker', 'activemq.xml');

const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;

export interface StartBrokerOptions {
  /** Fixed ports; by default free loopback ports are picked. */
  stompPort?: number;
  openwirePort?: number;
  /**
   * Base directory of the broker (activemq.base; conf/ and data/ go inside). By default a new
   * temporary directory that stop() removes; a directory given here is kept.
   */
  dataDir?: string;
  /** Another broker configuration (e.g. one adding a stomp+ssl connector). */
  configFile?: string;
  /** Extra -D system properties for that configuration, e.g. { 'cvp.stomps.port': '61612' }. */
  systemProperties?: Record<string, string>;
  /** How long to wait for a STOMP CONNECTED, default 60 s. */
  startTimeoutMs?: number;
}

export interface Broker {
  readonly host: typeof BROKER_HOST;
  readonly stompPort: number;
  readonly openwirePort: number;
  /** activemq.base: conf/, data/ (KahaDB, activemq.log) and broker.out are inside. */
  readonly dataDir: string;
  /** The broker's log4j log. */
  readonly logFile: string;
  /** The JVM's process id while it runs. */
  readonly pid: number | undefined;
  /** Whether the JVM is running. */
  readonly running: boolean;
  /** Stop the JVM and remove the temporary directory (if startBroker made it). */
  stop(): Promise<void>;
  /** stopProcess() then startProcess(): same ports, same data (persistent messages survive). */
  restart(): Promise<void>;
  /** SIGTERM, wait for exit (SIGKILL after 15 s); the data directory stays. */
  stopProcess(): Promise<void>;
  /** Start the JVM again on the same ports and data; resolves once STOMP answers. */
  startProcess(): Promise<void>;
  /** The last lines of the broker log and of the JVM output, for error messages. */
  logTail(lines?: number): string;
}

/** JAVA_HOME/bin/java, else the real path of `java` on PATH (Debian's JAVA_HOME may not exist). */
export function findJava(): string {
  const candidates: string[] = [];
  if (process.env.JAVA_HOME) candidates.push(path.join(process.env.JAVA_HOME, 'bin', 'java'));
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir) candidates.push(path.join(dir, 'java'));
  }
  for (const candidate of candidates) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return fs.realpathSync(candidate);
    } catch {
      // next one
    }
  }
  throw new Error(
    'java not found (neither $JAVA_HOME/bin/java nor java on PATH): run `node scripts/ensure-test-deps.js`',
  );
}

/** The ActiveMQ installation (ACTIVEMQ_HOME, default Debian's /usr/share/activemq). */
export function activemqHome(): string {
  return process.env.ACTIVEMQ_HOME || '/usr/share/activemq';
}

/** Ports that are free on 127.0.0.1 right now (listen on port 0, then close). Distinct. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, BROKER_HOST, () => resolve());
      });
      ports.push((server.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/**
 * One STOMP handshake on a raw socket: resolves when the server answers CONNECTED, rejects on
 * ERROR, refusal, close or timeout. The connection is closed with DISCONNECT.
 */
export function probeStomp(port: number, host: string = BROKER_HOST, timeoutMs = 2_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let received = '';
    let settled = false;
    const socket = net.connect({ port, host });
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        socket.end('DISCONNECT\n\n\0');
        resolve();
      }
    };
    const timer = setTimeout(() => finish(new Error(`no STOMP answer within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      socket.write('CONNECT\naccept-version:1.2\nhost:localhost\nheart-beat:0,0\n\n\0');
    });
    socket.on('data', (chunk: string) => {
      received += chunk;
      const end = received.indexOf('\0');
      if (end < 0) return;
      const frame = received.slice(0, end).replace(/^[\r\n]+/, '');
      if (frame.startsWith('CONNECTED')) finish();
      else finish(new Error(`unexpected STOMP answer: ${JSON.stringify(frame.slice(0, 300))}`));
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error('connection closed before CONNECTED')));
  });
}

/** The last lines of a file, Java stack frames left out (the causes stay). */
function tailOf(file: string, lines: number): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text
      .split('\n')
      .filter((line) => !/^\s+(at |\.\.\. \d+ (more|common frames omitted))/.test(line))
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  } catch {
    return '(none)';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** JVMs still running when this Node process exits are killed (no orphaned brokers). */
const liveProcesses = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const p of liveProcesses) {
        try {
          p.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
  liveProcesses.add(child);
  child.once('exit', () => liveProcesses.delete(child));
}

const LOG4J_PROPERTIES = `# written by test/support/activemq.ts: quiet, to a file only
log4j.rootLogger=INFO, logfile
log4j.logger.org.springframework=WARN
log4j.logger.org.apache.xbean=WARN
log4j.logger.org.apache.activemq.spring=WARN
log4j.appender.logfile=org.apache.log4j.FileAppender
log4j.appender.logfile.file=\${activemq.data}/activemq.log
log4j.appender.logfile.append=true
log4j.appender.logfile.layout=org.apache.log4j.PatternLayout
log4j.appender.logfile.layout.ConversionPattern=%d | %-5p | %m | %c | %t%n
`;

// Only used if a later ActiveMQ package ships log4j2 instead of Debian's log4j 1.2 binding.
const LOG4J2_PROPERTIES = `# written by test/support/activemq.ts: quiet, to a file only
rootLogger.level=INFO
rootLogger.appenderRef.logfile.ref=LogFile
logger.spring.name=org.springframework
logger.spring.level=WARN
logger.xbean.name=org.apache.xbean
logger.xbean.level=WARN
appender.logfile.type=File
appender.logfile.name=LogFile
appender.logfile.fileName=\${sys:activemq.data}/activemq.log
appender.logfile.append=true
appender.logfile.layout.type=PatternLayout
appender.logfile.layout.pattern=%d | %-5p | %m | %c | %t%n
`;

class ActiveMqBroker implements Broker {
  readonly host = BROKER_HOST;
  readonly logFile: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private readonly outFile: string;

  constructor(
    readonly stompPort: number,
    readonly openwirePort: number,
    readonly dataDir: string,
    private readonly ownsDataDir: boolean,
    private readonly configFile: string,
    private readonly systemProperties: Record<string, string>,
    private readonly startTimeoutMs: number,
  ) {
    this.logFile = path.join(dataDir, 'data', 'activemq.log');
    this.outFile = path.join(dataDir, 'broker.out');
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  logTail(lines = 40): string {
    return (
      `--- ${this.logFile} (last ${lines} lines, no stack frames) ---\n${tailOf(this.logFile, lines)}\n` +
      `--- ${this.outFile} (last ${lines} lines, no stack frames) ---\n${tailOf(this.outFile, lines)}`
    );
  }

  async startProcess(): Promise<void> {
    if (this.running) return;
    const conf = path.join(this.dataDir, 'conf');
    const data = path.join(this.dataDir, 'data');
    fs.mkdirSync(conf, { recursive: true });
    fs.mkdirSync(data, { recursive: true });
    fs.writeFileSync(path.join(conf, 'log4j.properties'), LOG4J_PROPERTIES);
    fs.writeFileSync(path.join(conf, 'log4j2.properties'), LOG4J2_PROPERTIES);

    const home = activemqHome();
    const jar = path.join(home, 'bin', 'activemq.jar');
    if (!fs.existsSync(jar)) {
      throw new Error(`${jar} not found: run \`node scripts/ensure-test-deps.js\` (Debian package activemq)`);
    }
    const props: Record<string, string> = {
      'activemq.home': home,
      'activemq.base': this.dataDir,
      'activemq.conf': conf,
      'activemq.data': data,
      'cvp.stomp.port': String(this.stompPort),
      'cvp.openwire.port': String(this.openwirePort),
      'log4j.configuration': `file:${path.join(conf, 'log4j.properties')}`,
      'log4j.configurationFile': path.join(conf, 'log4j2.properties'),
      'java.io.tmpdir': data,
      ...this.systemProperties,
    };
    const args = [
      '-Xms64m',
      '-Xmx512m',
      ...Object.entries(props).map(([k, v]) => `-D${k}=${v}`),
      '-jar',
      jar,
      'start',
      `xbean:file:${path.resolve(this.configFile)}`,
    ];

    const out = fs.openSync(this.outFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(findJava(), args, { cwd: this.dataDir, stdio: ['ignore', out, out], env: process.env });
    } finally {
      fs.closeSync(out);
    }
    this.child = child;
    track(child);
    this.exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });
    if (child.pid !== undefined) fs.writeFileSync(path.join(this.dataDir, 'broker.pid'), `${child.pid}\n`);

    const deadline = Date.now() + this.startTimeoutMs;
    let lastError: unknown;
    for (;;) {
      if (spawnError || !this.running) {
        const how = spawnError
          ? `could not be spawned: ${spawnError.message}`
          : `exited (code ${child.exitCode}, signal ${child.signalCode})`;
        throw new Error(`ActiveMQ ${how} before STOMP answered on ${this.host}:${this.stompPort}\n${this.logTail()}`);
      }
      try {
        await probeStomp(this.stompPort, this.host, Math.max(500, Math.min(2_000, deadline - Date.now())));
        return;
      } catch (error) {
        lastError = error;
      }
      if (Date.now() >= deadline) {
        await this.stopProcess();
        throw new Error(
          `ActiveMQ did not answer STOMP CONNECT on ${this.host}:${this.stompPort} within ` +
            `${this.startTimeoutMs} ms (last: ${(lastError as Error)?.message ?? lastError})\n${this.logTail()}`,
        );
      }
      await sleep(100);
    }
  }

  async stopProcess(): Promise<void> {
    const child = this.child;
    const exited = this.exited;
    if (!child || !exited) return;
    if (this.running) {
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const killed = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), STOP_GRACE_MS);
        }),
      ]);
      clearTimeout(timer);
      if (killed) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    this.child = undefined;
    this.exited = undefined;
  }

  async restart(): Promise<void> {
    await this.stopProcess();
    await this.startProcess();
  }

  async stop(): Promise<void> {
    await this.stopProcess();
    if (this.ownsDataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Start a broker; resolves once it answers a STOMP CONNECT (about 2 to 4 s). */
export async function startBroker(opts: StartBrokerOptions = {}): Promise<Broker> {
  const pickPorts = opts.stompPort === undefined || opts.openwirePort === undefined;
  // A picked port can be taken by someone else before the broker binds it: pick again then.
  for (let attempt = 1; ; attempt++) {
    const picked = pickPorts ? await freePorts(2) : [];
    const stompPort = opts.stompPort ?? (picked[0] as number);
    const openwirePort = opts.openwirePort ?? (picked.find((p) => p !== stompPort) as number);
    const ownsDataDir = opts.dataDir === undefined;
    const dataDir = opts.dataDir
      ? path.resolve(opts.dataDir)
      : fs.mkdtempSync(path.join(os.tmpdir(), 'cvp-activemq-'));
    fs.mkdirSync(dataDir, { recursive: true });

    const broker = new ActiveMqBroker(
      stompPort,
      openwirePort,
      dataDir,
      ownsDataDir,
      opts.configFile ?? DEFAULT_CONFIG_FILE,
      opts.systemProperties ?? {},
      opts.startTimeoutMs ?? START_TIMEOUT_MS,
    );
    try {
      await broker.startProcess();
      return broker;
    } catch (error) {
      await broker.stopProcess().catch(() => undefined);
      // CVP_TEST_KEEP_BROKER_DIR=1 keeps the directory (and its logs) for a look after a failure.
      if (ownsDataDir && !process.env.CVP_TEST_KEEP_BROKER_DIR) fs.rmSync(dataDir, { recursive: true, force: true });
      const portClash = /Address already in use/.test((error as Error).message);
      if (!(pickPorts && portClash && attempt < 3)) throw error;
    }
  }
}
