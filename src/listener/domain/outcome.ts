export type BuildVerdict = 'SUCCESS' | 'UNSTABLE' | 'FAILURE' | 'ABORTED' | 'NOT_BUILT' | 'TIMEOUT';

export type OutcomeTable = Record<BuildVerdict, string>;

export const defaultOutcomes: OutcomeTable = {
  SUCCESS: 'PASSED',
  UNSTABLE: 'NEEDS_INSPECTION',
  FAILURE: 'FAILED',
  ABORTED: 'ERROR',
  NOT_BUILT: 'ERROR',
  TIMEOUT: 'ERROR',
};

/** A verdict the table does not know (a plugin's own result, say) is an ERROR: it is not a pass. */
export function outcomeOf(result: string | null | undefined, table: OutcomeTable): string {
  return (result && (table as Record<string, string>)[result]) || 'ERROR';
}

export const PASSING_OUTCOMES = new Set(['PASSED', 'INFO']);
