/**
 * jest globalSetup: ONE ActiveMQ broker for the whole test run.
 *
 * Runs in jest's parent process before any worker starts, so the ports set in process.env here
 * are inherited by every worker (and seen in-band with --runInBand). Tests read them with
 * testStompPort() / testOpenwirePort() from ./stomp-client.
 *
 * CVP_TEST_BROKER=external with CVP_TEST_STOMP_PORT (and optionally CVP_TEST_OPENWIRE_PORT,
 * CVP_TEST_BROKER_HOST) set: use that broker, start none.
 */
import { startBroker } from './activemq';
import { setGlobalBroker } from './global-broker';

export default async function globalSetup(): Promise<void> {
  if (process.env.CVP_TEST_BROKER === 'external') {
    if (!process.env.CVP_TEST_STOMP_PORT) {
      throw new Error('CVP_TEST_BROKER=external needs CVP_TEST_STOMP_PORT (the external broker\'s STOMP port)');
    }
    process.env.CVP_TEST_BROKER_HOST ??= '127.0.0.1';
    return;
  }
  const started = Date.now();
  const broker = await startBroker();
  setGlobalBroker(broker);
  process.env.CVP_TEST_BROKER_HOST = broker.host;
  process.env.CVP_TEST_STOMP_PORT = String(broker.stompPort);
  process.env.CVP_TEST_OPENWIRE_PORT = String(broker.openwirePort);
  process.env.CVP_TEST_BROKER_LOG = broker.logFile;
  if (process.env.CVP_TEST_VERBOSE) {
    console.log(
      `\nActiveMQ test broker: stomp ${broker.host}:${broker.stompPort}, openwire ${broker.openwirePort}, ` +
        `up in ${Date.now() - started} ms, log ${broker.logFile}`,
    );
  }
}
