import { randomUUID } from 'node:crypto';
import type { RuleConfig } from '../../config/config';
import type { ReportItem, RunContext, RunPlan } from '../domain';
import { CheckDocument, checksHold, type CompiledCheck } from './checks/jms-check';
import { ciMessageSpec, ciMessageText } from './ci-message';
import type { Expression } from './expression';
import { type LookupSpec, planLookups } from '../dispatch/lookups';
import { chosenJobProblem, MAX_JOB_NAME, type JobChoice } from './job-names';
import { artifactResultData } from './pipeline-results';
import { isSimulated } from './simulated';
import { boundParameter } from './sanitize';

/** A rule in the core's own shape: every expression parsed once, at start. */
export interface CompiledRule {
  config: RuleConfig;
  executor: string;
  timeoutMs: number;
  /** The rule's msgChecks, compiled once (checks/jms-check.ts: the plugin's semantics). */
  checks: CompiledCheck[];
  /** Job parameter → expression over the event. */
  parameters: Array<[string, Expression]>;
  /** The job's name, or the expression that names it. */
  job: { name: string } | { expression: Expression };
  /** The jobs an expression may choose. */
  jobChoice?: JobChoice;
  /** Over each image of a group: false, null or empty means it was not rebuilt. */
  rebuilt?: Expression;
  /** What makes two events "the same artifact": a newer one supersedes the older one's run. */
  supersede?: Expression;
  /** HTTP lookups that compute parameters before the trigger. */
  lookups?: LookupSpec[];
  /** The product whose gate the results feed. */
  product?: string;
  /** Where the run's notices go (the rule's channel, else the product's, else the default). */
  channel?: string;
}

export interface RouterOptions {
  maxParameterLength: number;
  newId?: () => string;
}

type Json = Record<string, unknown>;

function asString(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? '';
}

/**
 * The Jenkins CI-event trigger's msgChecks, as the JMS Messaging plugin evaluates them: all must
 * hold; a check that cannot be evaluated fails (the message is never refused for it).
 */
export function checkHolds(doc: CheckDocument, checks: readonly CompiledCheck[]): boolean {
  return checksHold(checks, doc);
}

/**
 * An expression over event data, which may not have the shape it expects (a function given a
 * string): `fallback` then, as for a field that is not there. A message is never left unjudged, and
 * redelivered for ever, because one rule's expression cannot read it.
 */
function evaluateOn(expr: Expression, data: unknown, fallback: unknown): unknown {
  try {
    return expr.evaluate(data);
  } catch {
    return fallback;
  }
}

function contextOf(topic: string, event: Json, messageId: string): RunContext {
  const artifact = (event.artifact ?? {}) as Json;
  const images = Array.isArray(artifact.images) ? (artifact.images as Json[]) : [];
  return {
    topic,
    messageId,
    artifactType: asString(artifact.type),
    artifactId: asString(artifact.id),
    component: artifact.component === undefined ? undefined : asString(artifact.component),
    advisory: artifact.errata_id === undefined ? undefined : asString(artifact.errata_id),
    images: images.map((img) => ({ name: asString(img.name), nvr: asString(img.nvr), fullName: asString(img.full_name) })),
    ...(images.length ? {} : { artifact }),
  };
}

interface Items { items: ReportItem[]; notRebuilt: ReportItem[]; groupItem?: ReportItem }

function reportItems(compiled: CompiledRule, event: Json): Items {
  const rule = compiled.config;
  const artifact = (event.artifact ?? {}) as Json;
  const per = rule.report.per ?? (Array.isArray(artifact.images) ? 'image' : 'artifact');
  if (per === 'image' && Array.isArray(artifact.images)) {
    const items: ReportItem[] = [];
    const notRebuilt: ReportItem[] = [];
    for (const img of artifact.images as Json[]) {
      const item: ReportItem = {
        item: asString(img.nvr),
        type: rule.report.type ?? 'brew-build',
        data: {
          component: asString(img.component), image_name: asString(img.name), full_name: asString(img.full_name), build_id: asString(img.id),
          brew_task_id: asString(img.id), issuer: asString(img.issuer),
        },
      };
      const rebuilt = compiled.rebuilt ? evaluateOn(compiled.rebuilt, img, true) : true;
      (rebuilt === null || rebuilt === false || rebuilt === '' ? notRebuilt : items).push(item);
    }
    const groupItem: ReportItem | undefined = rule.report.group === false ? undefined : {
      item: asString(artifact.id), type: asString(artifact.type), data: artifact.component === undefined ? {} : { component: asString(artifact.component) },
    };
    return { items, notRebuilt, groupItem };
  }
  // One artifact: keyed as the standard results updater keys it (a container image by its digest,
  // with the NVR under `nvr`; a scratch build as `brew-build_scratch`), so Greenwave finds it.
  const { item, type, ...data } = artifactResultData(artifact);
  let reportType = rule.report.type ?? String(type);
  if (truthyScratch(artifact.scratch) && (reportType === 'brew-build' || reportType === 'koji-build')) reportType += '_scratch';
  return { items: [{ item: String(item), type: reportType, data }], notRebuilt: [] };
}

function truthyScratch(v: unknown): boolean {
  return v === true || (typeof v === 'string' && v.toLowerCase() === 'true');
}

/** The name an expression gives, as text, bounded: '' when it throws (which no job name is). */
function chosenJob(expression: Expression, event: Json): string {
  try {
    return asString(expression.evaluate(event)).slice(0, MAX_JOB_NAME + 1);
  } catch {
    return '';
  }
}

/** Turns a valid event into the runs its matching rules ask for. Pure: no I/O, ids aside. */
export class Router {
  private readonly newId: () => string;
  private readonly byName: Map<string, CompiledRule>;

  constructor(private readonly rules: CompiledRule[], private readonly opts: RouterOptions) {
    this.newId = opts.newId ?? randomUUID;
    this.byName = new Map(rules.map((r) => [r.config.name, r]));
  }

  /**
   * Why a run of this rule cannot start the job it names, or null: a job chosen by an expression
   * must be a valid name among the rule's jobs (or match its job_pattern). The dispatcher asks
   * before the first build (its checkJob), and fails the run for good with this reason.
   */
  jobProblem(ruleName: string, job: string): string | null {
    const rule = this.byName.get(ruleName);
    if (!rule || 'name' in rule.job) return null;
    return chosenJobProblem(job, rule.jobChoice ?? {});
  }

  topics(): string[] {
    return [...new Set(this.rules.map((r) => r.config.topic))];
  }

  /** Rules whose runs may hold at most this many builds at once. */
  inFlightLimits(): Record<string, number> {
    return Object.fromEntries(this.rules.filter((r) => r.config.max_in_flight).map((r) => [r.config.name, r.config.max_in_flight!]));
  }

  /**
   * `body`, the message's text, lets the checks read numbers and key order as the plugin's parser
   * does (1.0 stays 1.0, big integers stay exact); without it they read the parsed event.
   */
  /** A rule by name (what a run names), for what is done with it after routing (lookups). */
  rule(name: string): CompiledRule | undefined {
    return this.rules.find((r) => r.config.name === name);
  }

  route(topic: string, event: Json, messageId: string, body?: string, headers?: Record<string, string>): RunPlan[] {
    const simulated = isSimulated(event, headers);
    const plans: RunPlan[] = [];
    const doc = new CheckDocument(body, event);
    const matching = this.rules.filter((rule) => rule.config.topic === topic && checkHolds(doc, rule.checks));
    for (const rule of matching) {
      const parameters: Record<string, string> = {};
      for (const [name, expr] of rule.parameters) {
        parameters[name] = boundParameter(asString(evaluateOn(expr, event, null)), this.opts.maxParameterLength);
      }
      // The whole event, under the rule's own limit rather than max_parameter_length.
      const ci = ciMessageSpec(rule.config.ci_message);
      if (ci) parameters[ci.name] = ciMessageText(event, body);
      const job = 'name' in rule.job ? rule.job.name : chosenJob(rule.job.expression, event);
      const { items, notRebuilt, groupItem } = reportItems(rule, event);
      const context = contextOf(topic, event, messageId);
      const supersedeKey = rule.supersede ? asString(evaluateOn(rule.supersede, event, null)) : '';
      plans.push({
        id: this.newId(),
        rule: rule.config.name,
        executor: rule.executor,
        job,
        parameters,
        testcase: rule.config.report.testcase,
        ...(rule.config.report.docs ? { testcaseDocs: rule.config.report.docs } : {}),
        ...(rule.config.report.scenario ? { scenario: rule.config.report.scenario } : {}),
        items,
        ...(notRebuilt.length ? { notRebuilt } : {}),
        ...(groupItem ? { groupItem } : {}),
        context,
        timeoutMs: rule.timeoutMs,
        ...(supersedeKey ? { supersedeKey } : {}),
        ...(rule.lookups?.length ? { lookups: planLookups(rule.lookups, event) } : {}),
        ...(simulated ? { simulated: true } : {}),
        ...(rule.product ? { product: rule.product } : {}),
        ...(rule.channel ? { channel: rule.channel } : {}),
      });
    }
    // The thread's first notice names every job the event starts in its channel.
    for (const plan of plans) plan.context.jobs = plans.filter((p) => p.channel === plan.channel).map((p) => p.job);
    return plans;
  }
}
