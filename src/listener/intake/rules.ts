import type { RuleConfig } from '../../config/config';
import { compileLookup } from '../dispatch/lookups';
import { compileCheck } from './checks/jms-check';
import { compileExpression } from './expression';
import type { CompiledRule } from './router';

export interface RuleDefaults {
  /** The executor of a rule that names none. */
  executor: string;
  timeoutMs: number;
  /** The channel of each product's notices. */
  productChannels: Map<string, string | undefined>;
  channel?: string;
  durationMs: (value: string | number | undefined, fallback: number) => number;
}

/** By default two events are about the same artifact when they share its type and component (else its id). */
export const DEFAULT_SUPERSEDE_KEY = "join('|', [artifact.type || '', artifact.component || artifact.id || ''])";

/**
 * The configuration's rules in the core's own shape, every expression parsed once. The config
 * check has already refused expressions that do not parse, so a throw here is a bug.
 */
export function compileRules(rules: RuleConfig[], d: RuleDefaults): CompiledRule[] {
  return rules.map((r) => ({
    config: r,
    executor: r.executor ?? d.executor,
    timeoutMs: d.durationMs(r.timeout, d.timeoutMs),
    checks: (r.checks ?? []).map(compileCheck),
    parameters: Object.entries(r.parameters ?? {}).map(([name, expr]) => [name, compileExpression(expr)] as [string, ReturnType<typeof compileExpression>]),
    job: r.job.startsWith('=') ? { expression: compileExpression(r.job.slice(1)) } : { name: r.job },
    ...(r.job.startsWith('=') ? { jobChoice: { jobs: r.jobs, pattern: r.job_pattern === undefined ? undefined : new RegExp(r.job_pattern) } } : {}),
    ...(r.report.rebuilt ? { rebuilt: compileExpression(r.report.rebuilt) } : {}),
    ...(r.supersede ? { supersede: compileExpression(r.supersede === true ? DEFAULT_SUPERSEDE_KEY : r.supersede) } : {}),
    ...(r.lookups?.length ? { lookups: r.lookups.map(compileLookup) } : {}),
    product: r.product,
    channel: r.slack_channel ?? (r.product ? d.productChannels.get(r.product) : undefined) ?? d.channel,
  }));
}
