/**
 * What the CLI, the HTTP views and the metrics read from the journal. Kept apart from the core's
 * port: the core never needs these, and a store may serve them from a replica.
 */
import type { DecisionRecord, EventStatus, HumanAction, MessageRecord, Waiver } from '../domain';

export interface JournalStats {
  runsByState: Record<string, number>;
  effectsPending: Record<string, number>;
  oldestUnfinishedRunAgeSeconds: number;
  /** Messages received but with work still pending: runs not finished. */
  backlog: number;
}

export interface JournalQueries {
  eventStatus(messageId: string): Promise<EventStatus | null>;
  /** Message ids whose runs concern this artifact id or item (an NVR), newest first. */
  messagesAbout(artifact: string, limit: number): Promise<string[]>;
  /** Messages that were rejected, oldest first, received at or after `since`. */
  rejectedMessages(since: number, limit: number): Promise<MessageRecord[]>;
  /** Every decision, newest first; of one product when named. */
  decisions(product: string | undefined, limit: number): Promise<DecisionRecord[]>;
  stats(now: number): Promise<JournalStats>;
  /** People's actions, newest first; of one product when named. */
  actions(product: string | undefined, limit: number): Promise<HumanAction[]>;
  /** Waivers, newest first; revoked ones too when asked. */
  waivers(product: string | undefined, withRevoked: boolean, limit: number): Promise<Waiver[]>;
  /** Recent messages, newest first, with their status (the dashboard's list of events and dead letters). */
  recentMessages(limit: number, status?: MessageRecord['status']): Promise<MessageRecord[]>;
  close(): Promise<void>;
}
