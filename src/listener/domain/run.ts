import type { BuildRef } from '../ports/executor';

export type RunState = 'pending' | 'triggering' | 'queued' | 'running' | 'finished';

export interface ReportItem {
  /** ResultsDB item: the image NVR, or the artifact id when results are kept per artifact. */
  item: string;
  type: string;
  /** Extra `data` keys for this item (component, image name, ...). */
  data: Record<string, string>;
}

export interface RunPlan {
  id: string;
  rule: string;
  executor: string;
  job: string;
  parameters: Record<string, string>;
  testcase: string;
  items: ReportItem[];
  /** What the notices say about the event: component, artifact id, advisory, images. */
  context: RunContext;
  timeoutMs: number;
  /** The product whose gate this run's results feed, if any. */
  product?: string;
  /** Slack channel of this run's notices (the rule's, the product's or the default). */
  channel?: string;
  /** Images of the event that were not rebuilt: they get a not_applicable (INFO) result. */
  notRebuilt?: ReportItem[];
  /** The result kept for the whole group, besides one per image. */
  groupItem?: ReportItem;
}

/** Every item a run reports on: those under test, those not rebuilt, and the group itself. */
export function allItems(plan: Pick<RunPlan, 'items' | 'notRebuilt' | 'groupItem'>): ReportItem[] {
  return [...plan.items, ...(plan.notRebuilt ?? []), ...(plan.groupItem ? [plan.groupItem] : [])];
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
  triggeredAt?: number | null;
  startedAt?: number | null;
  finishedAt?: number | null;
}

export interface RunPatch {
  state?: RunState;
  buildRef?: BuildRef | null;
  buildResult?: string | null;
  outcome?: string | null;
  errorReason?: string | null;
  deadlineAt?: number | null;
  nextPollAt?: number | null;
  attempts?: number;
}
