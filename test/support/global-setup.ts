/**
 * jest globalSetup: ONE ActiveMQ broker and ONE PostgreSQL server for the whole test run.
 *
 * Runs in jest's parent process before any worker starts, so the ports set in process.env here
 * are inherited by every worker (and seen in-band with --runInBand). Tests read them with
 * testStompPort() / testOpenwirePort() from ./stomp-client and testPostgres() from ./postgres
 * (each suite makes a database of its own there).
 *
 * CVP_TEST_BROKER=external with CVP_TEST_STOMP_PORT (and optionally CVP_TEST_OPENWIRE_PORT,
 * CVP_TEST_BROKER_HOST) set: use that broker, start none. CVP_TEST_POSTGRES=external with
 * CVP_TEST_PG_PORT and CVP_TEST_PG_DATA set: use that server (trust authentication for user
 * postgres on 127.0.0.1), start none.
 */
import { startBroker } from './activemq';
import { setGlobalBroker } from './global-broker';
import { setGlobalPostgres, startPostgres } from './postgres';

async function broker(): Promise<void> {
  if (process.env.CVP_TEST_BROKER === 'external') {
    if (!process.env.CVP_TEST_STOMP_PORT) {
      throw new Error('CVP_TEST_BROKER=external needs CVP_TEST_STOMP_PORT (the external broker\'s STOMP port)');
    }
    process.env.CVP_TEST_BROKER_HOST ??= '127.0.0.1';
    return;
  }
  const started = Date.now();
  const b = await startBroker();
  setGlobalBroker(b);
  process.env.CVP_TEST_BROKER_HOST = b.host;
  process.env.CVP_TEST_STOMP_PORT = String(b.stompPort);
  process.env.CVP_TEST_OPENWIRE_PORT = String(b.openwirePort);
  process.env.CVP_TEST_BROKER_LOG = b.logFile;
  if (process.env.CVP_TEST_VERBOSE) {
    console.log(
      `\nActiveMQ test broker: stomp ${b.host}:${b.stompPort}, openwire ${b.openwirePort}, ` +
        `up in ${Date.now() - started} ms, log ${b.logFile}`,
    );
  }
}

async function postgres(): Promise<void> {
  if (process.env.CVP_TEST_POSTGRES === 'external') {
    if (!process.env.CVP_TEST_PG_PORT || !process.env.CVP_TEST_PG_DATA) {
      throw new Error('CVP_TEST_POSTGRES=external needs CVP_TEST_PG_PORT and CVP_TEST_PG_DATA');
    }
    return;
  }
  const started = Date.now();
  const pg = await startPostgres();
  setGlobalPostgres(pg);
  process.env.CVP_TEST_PG_PORT = String(pg.port);
  process.env.CVP_TEST_PG_DATA = pg.dataDir;
  if (process.env.CVP_TEST_VERBOSE) console.log(`\nPostgreSQL test server: ${pg.host}:${pg.port}, up in ${Date.now() - started} ms, data ${pg.dataDir}`);
}

export default async function globalSetup(): Promise<void> {
  const [b, p] = await Promise.allSettled([broker(), postgres()]);
  const failed = [b, p].filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length) {
    // One started and the other did not: stop the one that did, so nothing outlives the run.
    const { default: teardown } = await import('./global-teardown');
    await teardown().catch(() => undefined);
    throw failed[0].reason;
  }
}
