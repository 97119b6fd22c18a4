import { compile } from '@jmespath-community/jmespath';

/*
 * A job chosen by an expression over the event is a name the event's sender picked. It must be a
 * name a job can have, and one the rule allows: a list (`jobs`) or a pattern (`job_pattern`).
 */

/** Characters Jenkins refuses in a job's name (Jenkins.checkGoodName), and what cannot be seen. */
const UNSAFE = /[?*\\%!@#$^&|<>[\]:;\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
/** Names every JavaScript object answers to: a lookup by such a name finds the prototype's member. */
const INHERITED = new Set(Object.getOwnPropertyNames(Object.prototype));

export const MAX_JOB_NAME = 500;

/** Why `name` cannot be a job's full name (folders separated by /), or null. */
export function jobNameProblem(name: string): string | null {
  if (!name) return 'no job name';
  if (name.length > MAX_JOB_NAME) return `a job name of ${name.length} characters (at most ${MAX_JOB_NAME})`;
  const shown = JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}…` : name);
  const segments = name.split('/');
  if (segments.some((s) => s === '')) return `job name ${shown} has an empty segment (// or a / at an end)`;
  if (segments.some((s) => s === '.' || s === '..')) return `job name ${shown} has a . or .. segment`;
  if (segments.some((s) => s !== s.trim())) return `job name ${shown} has a segment that starts or ends with a space`;
  if (UNSAFE.test(name)) return `job name ${shown} has a character no job name may have (?*\\%!@#$^&|<>[]:; or a control character)`;
  if (segments.some((s) => INHERITED.has(s))) return `job name ${shown} names a member of every JavaScript object (${segments.find((s) => INHERITED.has(s))})`;
  return null;
}

export interface JobChoice {
  /** The jobs the expression may choose, by full name. */
  jobs?: string[];
  /** Or a pattern the whole name must match. */
  pattern?: RegExp;
}

/** Why a name an expression gave cannot be used by this rule, or null. */
export function chosenJobProblem(name: string, choice: JobChoice): string | null {
  const invalid = jobNameProblem(name);
  if (invalid) return `the rule's job expression gave ${invalid}`;
  if (choice.jobs && !choice.jobs.includes(name)) return `the rule's job expression chose ${JSON.stringify(name)}, which is not among the rule's jobs (${choice.jobs.join(', ')})`;
  if (choice.pattern && !fullMatch(choice.pattern, name)) return `the rule's job expression chose ${JSON.stringify(name)}, which does not match the rule's job_pattern ${choice.pattern.source}`;
  if (!choice.jobs && !choice.pattern) return 'the rule names no jobs its expression may choose (jobs or job_pattern)';
  return null;
}

function fullMatch(pattern: RegExp, name: string): boolean {
  const m = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')).exec(name);
  return !!m && m.index === 0 && m[0].length === name.length;
}

/**
 * Names a JMESPath expression looks up (fields, variables) or sets (keys of a {..} hash) that every
 * JavaScript object has through its prototype (__proto__, constructor, toString, ...): the library
 * looks fields up with obj[name], so such a name would reach the prototype, not the event. An
 * expression that does not parse has none (its parse error is reported on its own).
 */
export function inheritedNames(source: string): string[] {
  let ast: unknown;
  try {
    ast = compile(source);
  } catch {
    return [];
  }
  const found = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) { node.forEach(walk); return; }
    if (node === null || typeof node !== 'object') return;
    const n = node as { type?: unknown; name?: unknown; variable?: unknown };
    if (n.type === 'Literal') return;
    for (const name of [n.type === 'Field' || n.type === 'KeyValuePair' || n.type === 'Variable' ? n.name : undefined, n.type === 'Binding' ? n.variable : undefined]) {
      if (typeof name === 'string' && INHERITED.has(name)) found.add(name);
    }
    for (const value of Object.values(node)) walk(value);
  };
  walk(ast);
  return [...found];
}
