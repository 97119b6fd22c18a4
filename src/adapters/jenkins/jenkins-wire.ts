/** The parts of Jenkins' JSON API this adapter reads (documented remote API shapes). */
export interface JenkinsParameter { name: string; value?: unknown }

export interface JenkinsAction { _class?: string; parameters?: JenkinsParameter[] }

export interface JenkinsQueueItem {
  id: number;
  cancelled?: boolean;
  why?: string | null;
  task?: { name?: string; url?: string };
  actions?: JenkinsAction[];
  executable?: { number: number; url: string } | null;
}

export interface JenkinsBuild {
  number: number;
  url: string;
  building?: boolean;
  result?: string | null;
  duration?: number;
  actions?: JenkinsAction[];
}

export interface JenkinsJob {
  builds?: JenkinsBuild[];
}

export function parameterOf(actions: JenkinsAction[] | undefined, name: string): string | undefined {
  for (const a of actions ?? []) {
    for (const p of a?.parameters ?? []) if (p?.name === name) return p.value === undefined ? undefined : String(p.value);
  }
  return undefined;
}
