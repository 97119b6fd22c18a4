import type { CiMessageConfig } from '../../config/config';

/** The JMS Messaging plugin's convention: a job started by its trigger gets the message as CI_MESSAGE. */
export const CI_MESSAGE = 'CI_MESSAGE';
export const DEFAULT_CI_MESSAGE_BYTES = 1024 * 1024;

export interface CiMessageSpec { name: string; maxBytes: number }

/** A rule's ci_message setting, or undefined when the rule does not pass the event whole. */
export function ciMessageSpec(config: CiMessageConfig | undefined): CiMessageSpec | undefined {
  if (!config) return undefined;
  if (config === true) return { name: CI_MESSAGE, maxBytes: DEFAULT_CI_MESSAGE_BYTES };
  return { name: config.name ?? CI_MESSAGE, maxBytes: config.max_bytes ?? DEFAULT_CI_MESSAGE_BYTES };
}

/**
 * The event's text for the parameter: the body as it came (the plugin passes it untouched), or the
 * parsed event written back when the body is not at hand. Not cut: over its limit, the run ends as
 * ERROR before its job is triggered (dispatch/lookups.ts prepareParameters).
 */
export function ciMessageText(event: unknown, body: string | undefined): string {
  return body ?? JSON.stringify(event);
}
