/** What the core counts; the Prometheus adapter (or nothing) serves it. */
export interface Metrics {
  messageJudged(topic: string, verdict: 'valid' | 'rejected' | 'duplicate', code?: string): void;
  deadLettered(topic: string): void;
  runFinished(outcome: string): void;
  runTriggered(): void;
  effectDelivered(peer: string, latencySeconds: number): void;
  effectFailed(peer: string, permanent: boolean): void;
}
