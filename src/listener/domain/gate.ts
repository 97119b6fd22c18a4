import type { RunContext } from './run';

/** A result as the gate sees it: what CVP wrote or took in, latest first. */
export interface KnownResult {
  item: string;
  type: string;
  testcase: string;
  outcome: string;
  refUrl: string | null;
  createdAt: number;
}

export interface GateSubject {
  key: string;
  product: string;
  artifactType: string;
  artifactId: string;
  messageId: string;
  items: Array<{ item: string; type: string }>;
  context: RunContext;
  channel?: string;
}

export interface Gate extends GateSubject {
  decision: 'pass' | 'fail' | null;
  reasons: GateReason[];
  released: boolean;
  updatedAt: number;
}

export interface GateReason { testcase: string; item: string; type: string; outcome: string; ref_url?: string; why: string }

export interface DecisionRecord {
  gateKey: string;
  decision: 'pass' | 'fail';
  mode: string;
  action: string;
  reasons: GateReason[];
  createdAt: number;
}
