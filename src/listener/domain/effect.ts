import type { Notice } from '../ports/notifier';
import type { ResultRecord } from '../ports/results';

export type Peer = 'resultsdb' | 'slack' | 'bus' | 'release';

export type EffectPayload =
  | { kind: 'result'; result: ResultRecord }
  | { kind: 'notice'; notice: Notice; role: 'start' | 'reply'; thread: string }
  | { kind: 'publish'; destination: string; body: string; headers: Record<string, string> }
  | { kind: 'http'; url: string; method: 'POST' | 'PUT'; body: string; idempotencyKey: string };

export interface NewEffect {
  peer: Peer;
  runId: string | null;
  payload: EffectPayload;
  /** Effects of one peer with the same key are delivered in order (default: the run, else the message). */
  orderKey?: string;
}

export interface Effect extends NewEffect {
  id: number;
  messageId: string | null;
  state: 'pending' | 'done' | 'failed';
  attempts: number;
  nextAt: number;
  lastError: string | null;
  /** An earlier process began delivering it and died before it knew the outcome. */
  interrupted: boolean;
  createdAt: number;
  doneAt: number | null;
}

export type Settlement =
  | { id: number; state: 'done'; thread?: { thread: string; channel: string; ts: string } }
  | { id: number; state: 'retry'; nextAt: number; error: string }
  | { id: number; state: 'failed'; error: string };
