import type { ResultRecord, ResultSink } from '../../listener/ports';

/**
 * The sandbox's results sink: no ResultsDB, the result is already in the journal as a delivered
 * effect, so this only prints it for the person watching.
 */
export class PrintedResults implements ResultSink {
  readonly name = 'printed';
  private n = 0;

  constructor(private readonly write: (line: string) => void) {}

  async submit(result: ResultRecord): Promise<{ id: number }> {
    this.n += 1;
    this.write(`result ${result.outcome.padEnd(16)} ${result.testcase.name}  item=${String(result.data.item)}${result.data.nvr ? ` nvr=${String(result.data.nvr)}` : ''}  run=${String(result.data.cvp_run_id)}${result.ref_url ? `  ${result.ref_url}` : ''}`);
    return { id: this.n };
  }

  async findByRun(): Promise<Array<{ id: number; outcome: string }>> {
    return [];
  }
}
