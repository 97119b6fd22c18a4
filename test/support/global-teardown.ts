/** jest globalTeardown: stop the broker and the PostgreSQL server that globalSetup started (none in external mode). */
import { setGlobalBroker, getGlobalBroker } from './global-broker';
import { getGlobalPostgres, setGlobalPostgres } from './postgres';

export default async function globalTeardown(): Promise<void> {
  const broker = getGlobalBroker();
  const pg = getGlobalPostgres();
  setGlobalBroker(undefined);
  setGlobalPostgres(undefined);
  await Promise.all([broker?.stop(), pg?.stop()]);
}
