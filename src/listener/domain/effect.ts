import type { Notice } from '../ports/notifier';
import type { ResultRecord } from '../ports/results';
import type { ItemRef, NewResult } from './gate';

export type Peer = 'resultsdb' | 'slack' | 'bus' | 'release';

export const PEERS: readonly Peer[] = ['resultsdb', 'slack', 'bus', 'release'];

/**
 * A Slack notice of an event's thread. `open` is a run's start notice: the first one recorded for
 * the thread becomes its root (`notice`), any later one is posted as a reply (`reply`). `reply`
 * notices go into the thread the root opened.
 */
export type NoticePayload =
  | { kind: 'notice'; role: 'open'; thread: string; notice: Notice; reply: Notice }
  | { kind: 'notice'; role: 'reply'; thread: string; notice: Notice };

export type EffectPayload =
  | { kind: 'result'; result: ResultRecord }
  | NoticePayload
  | { kind: 'publish'; destination: string; body: string; headers: Record<string, string> }
  | { kind: 'http'; url: string; method: 'POST' | 'PUT'; body: string; idempotencyKey: string };

export interface NewEffect {
  peer: Peer;
  runId: string | null;
  payload: EffectPayload;
  /** Effects of one peer with the same key are delivered in the order they were recorded. */
  orderKey: string;
}

export interface Effect extends NewEffect {
  id: number;
  messageId: string | null;
  state: 'pending' | 'done' | 'failed';
  /** Delivery attempts begun, this one included. */
  attempts: number;
  nextAt: number;
  lastError: string | null;
  /** An earlier claim began delivering it and ended without saying how it went (the process died). */
  interrupted: boolean;
  /** A notice's thread as it stood when the notice was claimed (its opener is settled by then). */
  thread?: ThreadState | null;
  createdAt: number;
  doneAt: number | null;
}

/** What became of one delivery; `thread` is set when the effect opened its event's Slack thread. */
export type Settlement =
  | { id: number; state: 'done'; thread?: { thread: string; channel: string; ts: string } }
  | { id: number; state: 'retry'; nextAt: number; error: string }
  | { id: number; state: 'failed'; error: string };

/** An event's Slack thread in one channel: which effect opens it, and its ts once posted. */
export interface ThreadState {
  opener: number | null;
  ts: string | null;
}

/** What one state change sets off, committed with it: effects to deliver, results the gate may count, gates to look at again. */
export interface Change {
  effects: NewEffect[];
  results: NewResult[];
  touch: ItemRef[];
}

export function emptyChange(): Change {
  return { effects: [], results: [], touch: [] };
}

/** Several changes as one. */
export function mergeChanges(...changes: Change[]): Change {
  return {
    effects: changes.flatMap((c) => c.effects),
    results: changes.flatMap((c) => c.results),
    touch: changes.flatMap((c) => c.touch),
  };
}
