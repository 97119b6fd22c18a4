/** The release action's HTTP call (the release driver's API). */
export interface ReleaseHook {
  call(url: string, method: 'POST' | 'PUT', body: string, idempotencyKey: string): Promise<void>;
}
