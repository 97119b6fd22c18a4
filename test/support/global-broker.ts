/**
 * The handle of the run's broker, kept on globalThis between jest's globalSetup and
 * globalTeardown (both run in the parent process; test files cannot see it).
 */
import type { Broker } from './activemq';

const KEY = Symbol.for('cvp.test.broker');

type Holder = { [KEY]?: Broker };

export function setGlobalBroker(broker: Broker | undefined): void {
  (globalThis as Holder)[KEY] = broker;
}

export function getGlobalBroker(): Broker | undefined {
  return (globalThis as Holder)[KEY];
}
