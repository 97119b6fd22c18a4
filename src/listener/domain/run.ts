import type { BuildRef } from '../ports/executor';

export type RunState = 'pending' | 'triggering' | 'queued' | 'running' | 'finished';

/** States in which a run holds (or is about to hold) a build: what a rule's in-flight limit counts. */
export const IN_FLIGHT_STATES: readonly RunState[] = ['triggering', 'queued', 'running'];

export interface ReportItem {
  /** ResultsDB item: the image NVR (or digest), or the artifact id when results are kept per artifact. */
  item: string;
  type: string;
  /** Extra `data` keys for this item (component, image name, nvr, ...). */
  data: Record<string, string | string[]>;
}

/** What one rule asks of one event: a build, and what to report about it. Immutable once recorded. */
export interface RunPlan {
  id: string;
  rule: string;
  executor: string;
  job: string;
  parameters: Record<string, string>;
  testcase: string;
  /** The items the event put under test: each gets QUEUED and a final result. */
  items: ReportItem[];
  /** What the notices say about the event: component, artifact id, advisory, images. */
  context: RunContext;
  timeoutMs: number;
  /** The product whose gate this run's results feed, if any. */
  product?: string;
  /** Slack channel of this run's notices (the rule's, the product's or the default). */
  channel?: string;
  /**
   * Images of a group that were not rebuilt. They were not tested, so they get no result of their
   * own (a later INFO would hide an earlier FAILED from the gating service): the group's result
   * names them.
   */
  notRebuilt?: ReportItem[];
  /** The result kept for the whole group, besides one per image. */
  groupItem?: ReportItem;
  /** The artifact this run tests, for a rule that lets a newer event supersede an older one. */
  supersedeKey?: string;
  /** The test case's documentation (its ResultsDB ref_url), never a build. */
  testcaseDocs?: string;
  /** `data.scenario` of this run's results: results of one case in different scenarios are kept apart. */
  scenario?: string;
  /** The rule's lookups, their URLs filled from the event (never a secret): resolved before the trigger. */
  lookups?: Array<{ name: string; url?: string; problem?: string }>;
  /**
   * The event was simulated (a tester's): its results are typed `<type>_simulated`, so ResultsDB
   * and Greenwave never take them for real ones, and its gate never releases.
   */
  simulated?: boolean;
}

/** Every item a run writes results for: those under test and the group itself. */
export function resultItems(plan: Pick<RunPlan, 'items' | 'groupItem'>): ReportItem[] {
  return [...plan.items, ...(plan.groupItem ? [plan.groupItem] : [])];
}

export interface RunContext {
  topic: string;
  artifactType: string;
  artifactId: string;
  component?: string;
  advisory?: string;
  images: Array<{ name: string; nvr?: string; fullName?: string }>;
  messageId: string;
  /** Every job the event starts, for the thread's first notice. */
  jobs?: string[];
  /** The event's artifact as it came, for the CI messages about it (single artifacts). */
  artifact?: Record<string, unknown>;
}

/** A pipeline's own verdict on a run (its test.complete / test.error named the run), kept until the run ends. */
export interface RunReport {
  outcome: string;
  url?: string;
  reason: string | null;
}

export interface Run extends RunPlan {
  messageId: string;
  state: RunState;
  buildRef: BuildRef | null;
  buildResult: string | null;
  outcome: string | null;
  errorReason: string | null;
  createdAt: number;
  updatedAt: number;
  deadlineAt: number | null;
  nextPollAt: number | null;
  /** Failed trigger attempts, for the backoff. */
  attempts: number;
  /** When each step happened (epoch ms), once it has: the build was accepted, started, ended. */
  triggeredAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  /** Set when the pipeline reported before the run ended: the tracker ends it with this verdict. */
  reported: RunReport | null;
  /** Set when a newer event for the same artifact superseded this run: it ends without a verdict. */
  supersededBy: string | null;
  /** The state the run was in when this process claimed it (a claimed pending run is already `triggering`). */
  claimedFrom?: RunState;
}

/** What a transition changes in a run; absent keys are left as they are. */
export interface RunPatch {
  state?: RunState;
  buildRef?: BuildRef | null;
  buildResult?: string | null;
  outcome?: string | null;
  errorReason?: string | null;
  deadlineAt?: number | null;
  nextPollAt?: number | null;
  attempts?: number;
  triggeredAt?: number | null;
  startedAt?: number | null;
  finishedAt?: number | null;
}
