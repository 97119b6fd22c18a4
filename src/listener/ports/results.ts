/** A result as ResultsDB stores it. */
export interface ResultRecord {
  testcase: { name: string; ref_url?: string };
  outcome: string;
  ref_url?: string;
  note?: string;
  data: Record<string, string | string[]>;
}

export interface ResultSink {
  readonly name: string;
  submit(result: ResultRecord): Promise<{ id: string | number }>;
  /** The results already stored for this run and test case, to skip a write whose answer was lost. */
  findByRun(runId: string, testcase: string, item: string): Promise<Array<{ id: string | number; outcome: string }>>;
}
