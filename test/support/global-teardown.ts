/** jest globalTeardown: stop the broker that globalSetup started (none in external mode). */
import { setGlobalBroker, getGlobalBroker } from './global-broker';

export default async function globalTeardown(): Promise<void> {
  const broker = getGlobalBroker();
  if (!broker) return;
  setGlobalBroker(undefined);
  await broker.stop();
}
