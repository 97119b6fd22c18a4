/** Where a build is, as far as the executor told us. */
export interface BuildRef {
  queueId?: string;
  number?: number;
  url?: string;
}

export type BuildState = 'queued' | 'running' | 'finished' | 'cancelled';

export interface BuildStatus {
  state: BuildState;
  ref: BuildRef;
  /** The executor's own verdict (SUCCESS, UNSTABLE, FAILURE, ABORTED, NOT_BUILT) once finished. */
  result?: string;
}

export interface Executor {
  readonly name: string;
  /**
   * Starts a build. `deadline` (the daemon's clock, ms): the run's claim ends soon after it, and
   * then another daemon may look the run up and trigger it; a request that cannot be sent by then
   * must not be sent (a transient error), so the two never both start a build.
   */
  trigger(job: string, parameters: Record<string, string>, runId: string, deadline?: number): Promise<BuildRef>;
  /**
   * Finds a build started with this CVP_RUN_ID (in the queue, or among the job's builds back to
   * those older than `since`, the run's creation time), so a run is never triggered twice.
   */
  locate(job: string, runId: string, since: number): Promise<BuildRef | null>;
  status(job: string, ref: BuildRef, runId: string): Promise<BuildStatus>;
  cancel(job: string, ref: BuildRef): Promise<void>;
  /**
   * The parameters the job declares (Jenkins drops any other), or null when the executor passes
   * every parameter through. Throws JOB_NOT_FOUND (permanent) for a job that does not exist.
   */
  declaredParameters(job: string): Promise<string[] | null>;
}
