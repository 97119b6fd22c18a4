import type { Waiver } from './action';
import type { RunContext } from './run';

/** An item as ResultsDB and the gating service key it. */
export interface ItemRef {
  item: string;
  type: string;
}

/** A result the gate may count: one CVP wrote or took in, as recorded in the journal. */
export interface KnownResult extends ItemRef {
  testcase: string;
  /** `data.scenario`: results of one case in different scenarios are kept apart (as Greenwave does). */
  scenario: string | null;
  outcome: string;
  refUrl: string | null;
  /** The message whose event put the item under test (or that carried the pipeline's result). */
  messageId: string | null;
  /** Recording order: the latest of a case wins. */
  seq: number;
  createdAt: number;
}

export type NewResult = Omit<KnownResult, 'seq' | 'createdAt'>;

export interface GateSubject {
  key: string;
  product: string;
  artifactType: string;
  artifactId: string;
  messageId: string;
  items: ItemRef[];
  context: RunContext;
  channel?: string;
  /** A tester's simulated event: decided as any other, never released. */
  simulated?: boolean;
}

export interface Gate extends GateSubject {
  decision: 'pass' | 'fail' | null;
  reasons: GateReason[];
  released: boolean;
  updatedAt: number;
}

export interface GateReason {
  testcase: string; item: string; type: string; scenario?: string; outcome: string; ref_url?: string; why: string;
  /** A person accepted this failing result: who, and why. */
  waived_by?: string; waiver_reason?: string;
}

export interface DecisionRecord {
  gateKey: string;
  decision: 'pass' | 'fail';
  mode: string;
  action: string;
  reasons: GateReason[];
  createdAt: number;
}

/** A gate this process claimed for evaluation, with every result known for its items. */
export interface GateClaim {
  gate: Gate;
  /** Bumped by each result that may change the decision; the evaluation settles this version. */
  version: number;
  results: KnownResult[];
  /** Waivers in force for its items. */
  waivers: Waiver[];
}
