import { isPermanent, describeError } from '../../errors';
import type { Executor } from '../ports';

/**
 * Whether a job can take a rule's runs. Jenkins keeps only the parameters a job declares
 * (SECURITY-170): without CVP_RUN_ID a build cannot be found after a lost answer or a restart,
 * so such a job is refused; a rule parameter the job does not declare is dropped, so it is a warning.
 */
export interface JobCheck {
  error?: string;
  warnings: string[];
}

export const RUN_ID_PARAMETER = 'CVP_RUN_ID';

/** How to declare the parameter, for a person reading the refusal. */
export function howToDeclareRunId(job: string): string {
  return `add a String parameter named ${RUN_ID_PARAMETER} to ${job}: in a Pipeline, in its parameters block, ` +
    `parameters { string(name: '${RUN_ID_PARAMETER}', defaultValue: '') } (and run the job once so that Jenkins records it); ` +
    `in a job configured in the web UI, tick "This project is parameterized" and add a String Parameter named ${RUN_ID_PARAMETER}`;
}

/**
 * Reads the job's declared parameters through its executor. A job the executor does not know is an
 * error; a failure that retrying may cure (Jenkins unreachable) is thrown, so the caller decides
 * (at start: check the job when first used instead). `where` names the rule in messages.
 */
export async function checkJob(executor: Pick<Executor, 'declaredParameters'>, job: string, parameters: string[], where = ''): Promise<JobCheck> {
  const prefix = where ? `${where}: ` : '';
  let declared: string[] | null;
  try {
    declared = await executor.declaredParameters(job);
  } catch (err) {
    if (isPermanent(err)) return { error: `${prefix}job ${job}: ${describeError(err)}`, warnings: [] };
    throw err;
  }
  // An executor that passes every parameter through (a local program) has nothing to check.
  if (declared === null) return { warnings: [] };
  const known = new Set(declared);
  const warnings = parameters
    .filter((p) => p !== RUN_ID_PARAMETER && !known.has(p))
    .map((p) => `${prefix}job ${job} does not declare the parameter ${p}, so Jenkins drops it (SECURITY-170); declare it in the job, or remove it from the rule`);
  if (!known.has(RUN_ID_PARAMETER)) {
    return {
      error: `${prefix}job ${job} does not declare the parameter ${RUN_ID_PARAMETER}, so Jenkins drops it (SECURITY-170) ` +
        `and CVP could not find the job's builds after a lost answer or a restart (it would trigger them twice): ${howToDeclareRunId(job)}`,
      warnings,
    };
  }
  return { warnings };
}

/**
 * Checks each (executor, job) once, the first time a run uses it: for jobs chosen by an expression,
 * which cannot be checked at start. A verdict (fit, or refused) is kept; a failure that retrying may
 * cure is not, so the next use checks again.
 */
export class CheckedJobs {
  private readonly verdicts = new Map<string, Promise<JobCheck>>();

  constructor(private readonly onWarning: (job: string, warning: string) => void = () => undefined) {}

  /** Resolves with the refusal (a reason to fail the run), or null when the job may be triggered. */
  async refusal(executorName: string, executor: Executor, job: string, parameters: string[]): Promise<string | null> {
    const key = `${executorName}\u0000${job}\u0000${[...parameters].sort().join(',')}`;
    let verdict = this.verdicts.get(key);
    if (!verdict) {
      verdict = checkJob(executor, job, parameters).then((v) => {
        for (const w of v.warnings) this.onWarning(job, w);
        return v;
      });
      this.verdicts.set(key, verdict);
      verdict.catch(() => this.verdicts.delete(key));
    }
    return (await verdict).error ?? null;
  }

  /** Records a verdict reached elsewhere (the start-up check), so the first run does not ask again. */
  remember(executorName: string, job: string, parameters: string[], verdict: JobCheck): void {
    this.verdicts.set(`${executorName}\u0000${job}\u0000${[...parameters].sort().join(',')}`, Promise.resolve(verdict));
  }
}
