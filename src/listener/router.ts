import { randomUUID } from 'node:crypto';
import jmespath from 'jmespath';
import { JSONPath } from 'jsonpath-plus';
import type { RuleConfig } from '../config/config';
import type { ReportItem, RunContext, RunPlan } from './journal';
import { boundParameter } from './sanitize';

export interface CompiledRule {
  config: RuleConfig;
  executor: string;
  timeoutMs: number;
  checks: Array<{ field: string; expected: RegExp }>;
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
  return JSON.stringify(v);
}

/**
 * The Jenkins CI-event trigger's msgChecks semantics: the JSONPath must find a value and the
 * regular expression must be found in it (a search, not a full match). All checks must hold.
 */
export function checkHolds(event: unknown, check: { field: string; expected: RegExp }): boolean {
  const found = JSONPath({ path: check.field, json: event as object, wrap: true }) as unknown[];
  if (!found.length) return false;
  const value = found.length === 1 ? found[0] : found;
  if (value === undefined || value === null) return false;
  return check.expected.test(asString(value));
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
  };
}

function reportItems(rule: RuleConfig, event: Json): ReportItem[] {
  const artifact = (event.artifact ?? {}) as Json;
  const per = rule.report.per ?? (Array.isArray(artifact.images) ? 'image' : 'artifact');
  if (per === 'image' && Array.isArray(artifact.images)) {
    return (artifact.images as Json[]).map((img) => ({
      item: asString(img.nvr),
      type: rule.report.type ?? 'brew-build',
      data: { component: asString(img.component), image_name: asString(img.name), full_name: asString(img.full_name) },
    }));
  }
  return [{
    item: asString(artifact.nvr ?? artifact.id),
    type: rule.report.type ?? asString(artifact.type),
    data: artifact.component === undefined ? {} : { component: asString(artifact.component) },
  }];
}

/** Turns a valid event into the runs its matching rules ask for. Pure: no I/O, ids aside. */
export class Router {
  private readonly newId: () => string;

  constructor(private readonly rules: CompiledRule[], private readonly opts: RouterOptions) {
    this.newId = opts.newId ?? randomUUID;
  }

  topics(): string[] {
    return [...new Set(this.rules.map((r) => r.config.topic))];
  }

  route(topic: string, event: Json, messageId: string): RunPlan[] {
    const plans: RunPlan[] = [];
    for (const rule of this.rules) {
      if (rule.config.topic !== topic) continue;
      if (!rule.checks.every((c) => checkHolds(event, c))) continue;
      const parameters: Record<string, string> = {};
      for (const [name, expr] of Object.entries(rule.config.parameters ?? {})) {
        parameters[name] = boundParameter(asString(jmespath.search(event, expr)), this.opts.maxParameterLength);
      }
      const job = rule.config.job.startsWith('=') ? asString(jmespath.search(event, rule.config.job.slice(1))) : rule.config.job;
      plans.push({
        id: this.newId(),
        rule: rule.config.name,
        executor: rule.executor,
        job,
        parameters,
        testcase: rule.config.report.testcase,
        items: reportItems(rule.config, event),
        context: contextOf(topic, event, messageId),
        timeoutMs: rule.timeoutMs,
      });
    }
    return plans;
  }
}
