/**
 * A real PostgreSQL server for the tests, started as the ActiveMQ broker is (see activemq.ts).
 *
 * Debian's `postgresql` package keeps its programs in /usr/lib/postgresql/<version>/bin, not on
 * PATH, and `initdb` and `postgres` refuse to run as root. So, as root, the cluster lives in a
 * temporary directory owned by the `postgres` user and the programs run through `runuser`:
 *
 *   initdb -D DIR -A trust -U postgres
 *   pg_ctl -D DIR -o "-p <free port> -k DIR -c listen_addresses=127.0.0.1" -w start
 *   pg_ctl -D DIR -m fast stop
 *
 * The package's own cluster on 5432 is never used. The server is a test server: fsync is off
 * (a test database need not survive a power cut, and CREATE DATABASE per test stays quick).
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { BROKER_HOST, freePorts } from './activemq';

const run = promisify(execFile);

export const PG_HOST = BROKER_HOST;
const PG_USER = 'postgres';

/** The bin directory of the newest PostgreSQL installed (PG_BIN overrides). */
export function postgresBin(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const bin = versions.map((v) => join(root, v, 'bin')).find((b) => existsSync(join(b, 'pg_ctl')));
  if (!bin) throw new Error(`PostgreSQL not found under ${root}/<version>/bin: run \`node scripts/ensure-test-deps.js\` (Debian package postgresql)`);
  return bin;
}

/** Runs a PostgreSQL program as the `postgres` user when this process is root (the programs refuse root). */
async function pgProgram(bin: string, program: string, args: string[]): Promise<string> {
  const file = join(bin, program);
  const asRoot = process.getuid?.() === 0;
  try {
    const { stdout } = asRoot
      ? await run('runuser', ['-u', PG_USER, '--', file, ...args], { cwd: '/' })
      : await run(file, args, { cwd: '/' });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${program} ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

export interface PgServer {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** postgres://postgres@host:port/<database> (trust authentication: no password). */
  url(database: string): string;
  /** A new empty database; its name. */
  createDatabase(prefix?: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  /** pg_ctl stop -m fast: connections are cut (57P01), the data stays. */
  stopProcess(): Promise<void>;
  /** pg_ctl start on the same port and data. */
  startProcess(): Promise<void>;
  readonly running: boolean;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
  logTail(lines?: number): string;
}

class TestPgServer implements PgServer {
  readonly host = PG_HOST;
  running = false;
  private databases = 0;

  /**
   * `removes`: the directory stop() removes (the one startPostgres made); `shared`: the run's
   * server, which only globalTeardown stops (other test files use it at the same time).
   */
  constructor(readonly port: number, readonly dataDir: string, private readonly bin: string,
    private readonly removes: string | null, private readonly shared = false) {}

  get logFile(): string {
    return join(this.dataDir, 'server.log');
  }

  url(database: string): string {
    return `postgres://${PG_USER}@${this.host}:${this.port}/${database}`;
  }

  async admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    const c = new Client({ host: this.host, port: this.port, user: PG_USER, database: 'postgres' });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  }

  async createDatabase(prefix = 'cvp'): Promise<string> {
    this.databases += 1;
    const name = `${prefix}_${process.pid}_${this.databases}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
    await this.admin((c) => c.query(`CREATE DATABASE ${name}`));
    return name;
  }

  async dropDatabase(name: string): Promise<void> {
    await this.admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  }

  async startProcess(): Promise<void> {
    if (this.running) return;
    const options = `-p ${this.port} -k ${this.dataDir} -c listen_addresses=${this.host} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
    await pgProgram(this.bin, 'pg_ctl', ['-D', this.dataDir, '-l', this.logFile, '-o', options, '-w', '-t', '60', 'start']);
    this.running = true;
  }

  async stopProcess(): Promise<void> {
    if (this.shared) throw new Error('the run\'s PostgreSQL is shared by every test file: start a server of your own (startPostgres) to stop it');
    if (!this.running) return;
    await pgProgram(this.bin, 'pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', 'stop']);
    this.running = false;
  }

  async stop(): Promise<void> {
    await this.stopProcess();
    if (this.removes && !process.env.CVP_TEST_KEEP_PG_DIR) rmSync(this.removes, { recursive: true, force: true });
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines - 1).join('\n');
    } catch {
      return '(no server log)';
    }
  }
}

/** initdb in a new temporary directory and start a server on a free loopback port (about 2 s). */
export async function startPostgres(): Promise<PgServer> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'cvp-postgres-'));
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', PG_USER]).catch(() => {
      throw new Error(`no user ${PG_USER}: PostgreSQL refuses to run as root (install Debian's postgresql package, which creates it)`);
    });
    const { stdout: gid } = await run('id', ['-g', PG_USER]);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, 'data');
  await pgProgram(bin, 'initdb', ['-D', data, '-A', 'trust', '-U', PG_USER, '--no-sync', '-E', 'UTF8', '--locale=C']);
  for (let attempt = 1; ; attempt++) {
    const [port] = await freePorts(1);
    const server = new TestPgServer(port, data, bin, dir);
    try {
      await server.startProcess();
      return server;
    } catch (err) {
      const tail = server.logTail();
      if (attempt >= 3 || !/already in use|could not bind/i.test(tail)) {
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`${(err as Error).message}\n${tail}`);
      }
    }
  }
}

/** The run's server, as globalSetup started it (its coordinates in the environment). */
export function testPostgres(): PgServer {
  const port = Number(process.env.CVP_TEST_PG_PORT);
  const dataDir = process.env.CVP_TEST_PG_DATA;
  if (!port || !dataDir) throw new Error('no test PostgreSQL: CVP_TEST_PG_PORT and CVP_TEST_PG_DATA are set by test/support/global-setup.ts');
  const server = new TestPgServer(port, dataDir, postgresBin(), null, true);
  server.running = true;
  return server;
}

const KEY = Symbol.for('cvp.test.postgres');
type Holder = { [KEY]?: PgServer };

/** The run's server between globalSetup and globalTeardown (both in jest's parent process). */
export function setGlobalPostgres(server: PgServer | undefined): void {
  (globalThis as Holder)[KEY] = server;
}

export function getGlobalPostgres(): PgServer | undefined {
  return (globalThis as Holder)[KEY];
}
