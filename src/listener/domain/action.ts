/** What a person did about a gate, a run or a result: from Slack's buttons or the CLI, recorded once. */
export type ActionKind = 'release' | 'hold' | 'rerun' | 'waive' | 'revoke';

export interface HumanAction {
  /** Idempotency key: a double click, or the same CLI call twice, acts once. */
  id: string;
  kind: ActionKind;
  product: string;
  /** release / hold: the gate acted on; waive: the gate whose thread hears of it. */
  gateKey?: string;
  /** rerun: the run run again. */
  runId?: string;
  /** revoke: the waiver taken back. */
  waiverId?: string;
  reason?: string;
  /** Who, as Slack or the CLI names them (`slack:U0123 (ada)`, `cli:ada@host`). */
  who: string;
  via: 'slack' | 'cli';
  at: number;
}

/** A failing result a person accepted, as WaiverDB keeps it: per item, test case and scenario. */
export interface Waiver {
  id: string;
  product: string;
  item: string;
  type: string;
  testcase: string;
  scenario: string | null;
  reason: string;
  who: string;
  createdAt: number;
  revokedAt: number | null;
  revokedBy: string | null;
}

/** An alarm the watchdog raises once and clears once, however many daemons watch. */
export interface Alarm {
  key: string;
  raised: boolean;
  since: number;
  detail: string;
}
