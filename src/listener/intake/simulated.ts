/**
 * The mark of a simulated event (the Jenkins library's trigger pipeline, `cvp trigger`): the body's
 * `cvp_simulated: true`, or the JMS property CVP_SIMULATED=true. Results reported for such an event
 * carry the same mark, and are never taken for real ones: not written to ResultsDB, never counted
 * by a gate.
 */
export const SIMULATED_FIELD = 'cvp_simulated';
export const SIMULATED_HEADER = 'CVP_SIMULATED';

export function isSimulated(body: unknown, headers?: Record<string, string | undefined>): boolean {
  if (body && typeof body === 'object' && (body as Record<string, unknown>)[SIMULATED_FIELD] === true) return true;
  const h = headers?.[SIMULATED_HEADER] ?? headers?.[SIMULATED_HEADER.toLowerCase()];
  return h !== undefined && h.trim().toLowerCase() === 'true';
}
