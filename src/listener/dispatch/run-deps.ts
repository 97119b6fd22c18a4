import type { GateKeeper } from '../gate/gate-keeper';
import type { Journal } from '../ports/journal';
import type { OutcomeTable } from '../domain/outcome';
import type { Clock, Executor, Logger, Metrics } from '../ports';
import type { Reporter } from '../effects/reporter';

/** What the parts that move runs along (dispatcher, tracker) both use. */
export interface RunDeps {
  journal: Journal;
  executors: Map<string, Executor>;
  reporter: Reporter;
  outcomes: OutcomeTable;
  clock: Clock;
  log: Logger;
  gate?: GateKeeper;
  metrics?: Metrics;
}
