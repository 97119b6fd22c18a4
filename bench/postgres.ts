/**
 * PostgreSQL for the bench's "several daemons, one journal" phase (issue 12, item 6).
 *
 * The phase needs two things: a server, and a build whose config knows `journal.url` (the
 * PostgreSQL journal, opened by src/cli/open-journal.ts). The server is BENCH_PG_URL when given
 * (a role that may CREATE DATABASE), else a throwaway one started as test/support/postgres.ts
 * does for the tests: Debian's postgresql-15, initdb in a temporary directory owned by the
 * `postgres` user, a free loopback port, stopped afterwards. Each measured run gets a fresh
 * database, created with psql, so the bench needs no PostgreSQL client library of its own.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageRoot } from '../src/paths';

const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface BenchPostgres {
  /** postgres://… of the server's maintenance database. */
  url: string;
  /** Where it came from, for the report. */
  origin: string;
  /** A new, empty database on the server; its URL. */
  newDatabase(name: string): string;
  stop(): void;
}

/** Why the phase cannot run in this build, or null when it can. */
export function postgresUnsupported(): string | null {
  const schema = JSON.parse(fs.readFileSync(path.join(packageRoot, 'schemas', 'config.schema.json'), 'utf8')) as {
    properties?: { journal?: { properties?: Record<string, unknown> } };
  };
  if (!schema.properties?.journal?.properties?.url) return 'this build has no PostgreSQL journal (journal.url is not in schemas/config.schema.json)';
  if (!process.env.BENCH_PG_URL && !fs.existsSync(path.join(BIN, 'initdb'))) return `no BENCH_PG_URL and no ${BIN}/initdb (Debian package postgresql-15)`;
  return null;
}

function psql(url: string, sql: string): void {
  execFileSync(fs.existsSync(path.join(BIN, 'psql')) ? path.join(BIN, 'psql') : 'psql', [url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(0, '127.0.0.1', () => resolve()); });
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** The server the phase runs against: BENCH_PG_URL, or a throwaway one (its directory removed by stop()). */
export async function startBenchPostgres(): Promise<BenchPostgres> {
  const given = process.env.BENCH_PG_URL;
  const databases = (url: string) => (name: string): string => {
    psql(url, `DROP DATABASE IF EXISTS ${name}`);
    psql(url, `CREATE DATABASE ${name}`);
    return withDatabase(url, name);
  };
  if (given) return { url: given, origin: 'BENCH_PG_URL', newDatabase: databases(given), stop: () => undefined };

  // initdb and postgres refuse to run as root: the cluster belongs to `postgres` when we are root.
  const asPostgres = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]): void => {
    const r = asPostgres ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' }) : spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${path.basename(cmd)} failed (${r.status}): ${(r.stderr || r.stdout || '').trim().split('\n').slice(-5).join('\n')}`);
  };
  // A directory of its own (mkdtemp's 0700 would keep `postgres` out of the bench's).
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'cvp-bench-pg-'));
  const dir = path.join(base, 'data');
  if (asPostgres) execFileSync('chown', ['postgres:postgres', base]);
  run(path.join(BIN, 'initdb'), ['-D', dir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const port = await freePort();
  // Durable as in production (fsync on); only the socket directory and address are the bench's.
  run(path.join(BIN, 'pg_ctl'), ['-D', dir, '-l', path.join(base, 'server.log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, '-w', 'start']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url, origin: `a throwaway PostgreSQL 15 on 127.0.0.1:${port}`, newDatabase: databases(url),
    stop: () => {
      try { run(path.join(BIN, 'pg_ctl'), ['-D', dir, '-m', 'fast', '-w', 'stop']); } catch { /* already gone */ }
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}
