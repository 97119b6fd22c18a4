import { lookupProblems } from '../listener/dispatch/lookups';
import { checkProblems } from '../listener/intake/checks/jms-check';
import { expressionError } from '../listener/intake/expression';
import { inheritedNames, jobNameProblem } from '../listener/intake/job-names';
import type { CvpConfig } from './config';

type Where = (path: Array<string | number>, key?: string) => string;

/**
 * The parser the core compiles rules with, so a config that passes the check always compiles; and
 * no name every JavaScript object has (the library looks fields up with obj[name]).
 */
export function jmespathError(expr: string): string | null {
  const err = expressionError(expr);
  if (err) return `does not parse: ${err}`;
  const inherited = inheritedNames(expr);
  return inherited.length ? `names ${inherited.join(', ')}, which every JavaScript object has: such a lookup would not read the event` : null;
}

/** A rule's job_pattern is CVP's own (a JavaScript regular expression over a short job name). */
function regexError(source: string): string | null {
  try {
    new RegExp(source);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** What the schema cannot say: expressions that do not parse, names used twice, executors not configured. */
export function checkRules(config: CvpConfig, at: Where, knowsTopic: (topic: string) => boolean): string[] {
  const problems: string[] = [];
  const names = new Map<string, number>();
  config.rules.forEach((rule, i) => {
    const base = ['rules', i];
    const first = names.get(rule.name);
    if (first !== undefined) problems.push(`${at([...base, 'name'])}: rule name "${rule.name}" is also used by rules[${first}]`);
    else names.set(rule.name, i);
    if (!knowsTopic(rule.topic)) problems.push(`${at([...base, 'topic'])}: no schema for topic ${rule.topic}, so its messages could never be validated`);
    (rule.checks ?? []).forEach((check, j) => {
      // What the plugin would never match, and what CVP cannot evaluate exactly as the plugin does.
      const found = checkProblems(check);
      if (found.field) problems.push(`${at([...base, 'checks', j, 'field'])}: ${found.field}`);
      if (found.expected) problems.push(`${at([...base, 'checks', j, 'expected'])}: ${found.expected}`);
    });
    const lookupNames = new Set<string>();
    (rule.lookups ?? []).forEach((lookup, j) => {
      if (lookupNames.has(lookup.name)) problems.push(`${at([...base, 'lookups', j, 'name'])}: lookup name "${lookup.name}" is used twice in this rule`);
      lookupNames.add(lookup.name);
      for (const p of lookupProblems(lookup)) problems.push(`${at([...base, 'lookups', j, ...p.key])}: ${p.problem}`);
    });
    const ciName = rule.ci_message && rule.ci_message !== true ? rule.ci_message.name ?? 'CI_MESSAGE' : 'CI_MESSAGE';
    if (rule.ci_message && rule.parameters?.[ciName] !== undefined) {
      problems.push(`${at([...base, 'parameters', ciName])}: ${ciName} is the whole event (ci_message); give this parameter another name`);
    }
    for (const [name, expr] of Object.entries(rule.parameters ?? {})) {
      const err = jmespathError(expr);
      if (err) problems.push(`${at([...base, 'parameters', name])}: JMESPath ${expr} ${err}`);
    }
    const executor = rule.executor ?? (config.jenkins ? 'jenkins' : 'command');
    if (rule.job.startsWith('=')) {
      const err = jmespathError(rule.job.slice(1));
      if (err) problems.push(`${at([...base, 'job'])}: JMESPath ${rule.job.slice(1)} ${err}`);
      problems.push(...jobChoiceProblems(rule, executor, config, base, at));
    } else {
      if (rule.jobs) problems.push(`${at([...base, 'jobs'])}: only for a job chosen by an expression (job: "=..."); this rule's job is ${rule.job}`);
      if (rule.job_pattern !== undefined) problems.push(`${at([...base, 'job_pattern'])}: only for a job chosen by an expression (job: "=..."); this rule's job is ${rule.job}`);
    }
    if (executor === 'jenkins' && !config.jenkins) problems.push(`${at([...base], 'job')}: runs on jenkins, but there is no jenkins section`);
    if (executor === 'command') {
      if (!config.command) problems.push(`${at([...base], 'job')}: runs on the command executor, but there is no command section`);
      else if (!rule.job.startsWith('=') && !Object.hasOwn(config.command.jobs, rule.job)) {
        problems.push(`${at([...base, 'job'])}: command.jobs has no job named "${rule.job}" (known: ${Object.keys(config.command.jobs).join(', ')})`);
      }
    }
    if (rule.report.rebuilt) {
      const err = jmespathError(rule.report.rebuilt);
      if (err) problems.push(`${at([...base, 'report', 'rebuilt'])}: JMESPath ${rule.report.rebuilt} ${err}`);
    }
    if (typeof rule.supersede === 'string') {
      const err = jmespathError(rule.supersede);
      if (err) problems.push(`${at([...base, 'supersede'])}: JMESPath ${rule.supersede} ${err}`);
    }
    if (rule.product && !(config.products ?? []).some((p) => p.name === rule.product)) {
      problems.push(`${at([...base, 'product'])}: no product named "${rule.product}" in products (known: ${(config.products ?? []).map((p) => p.name).join(', ') || 'none'})`);
    }
    if (!rule.executor && config.jenkins && config.command) {
      problems.push(`${at([...base], 'job')}: both jenkins and command are configured; say which with executor: jenkins|command`);
    }
  });
  (config.pipeline_results?.topics ?? []).forEach((topic, i) => {
    if (!knowsTopic(topic)) problems.push(`${at(['pipeline_results', 'topics', i])}: no schema for topic ${topic}`);
  });
  if (config.ci_messages && !config.bus) problems.push(`${at(['ci_messages'])}: CI messages need a bus section to be sent on`);
  if (config.pipeline_results && !config.bus) problems.push(`${at(['pipeline_results'])}: pipeline results arrive on the bus: add a bus section`);
  const intake = config.intake;
  if (intake && intake.enabled !== false && intake.host !== undefined && !intake.host.trim()) {
    problems.push(`${at(['intake', 'host'])}: empty (an unset or empty \${VAR}?), which would listen on every interface: write 127.0.0.1 for this machine only, or an address of this machine with intake.token`);
  }
  if (intake && intake.enabled !== false && intake.host?.trim() && !isLoopback(intake.host) && !intake.token && !intake.hmac_secret) {
    problems.push(`${at(['intake', 'host'])}: the intake listens beyond this machine (${intake.host}): set intake.token or intake.hmac_secret`);
  }
  const productNames = new Set<string>();
  (config.products ?? []).forEach((p, i) => {
    if (productNames.has(p.name)) problems.push(`${at(['products', i, 'name'])}: product "${p.name}" is defined twice`);
    productNames.add(p.name);
    if ((p.release ?? 'off') === 'on' && !p.release_action) problems.push(`${at(['products', i], 'release')}: release: on needs a release_action (bus and/or http)`);
    if (p.release_action?.bus && !config.bus) problems.push(`${at(['products', i, 'release_action', 'bus'])}: a bus release action needs a bus section`);
  });
  problems.push(...checkPeople(config, at));
  return problems;
}

/** Slack's buttons and the watchdog: what they need from the rest of the configuration. */
function checkPeople(config: CvpConfig, at: Where): string[] {
  const problems: string[] = [];
  const slack = config.slack;
  if (slack?.signing_secret && !slack.token) {
    problems.push(`${at(['slack', 'signing_secret'])}: Slack's buttons need slack.token too (the Waive modal is opened with views.open, user groups are read with usergroups.users.list)`);
  }
  if (slack?.signing_secret && config.intake?.enabled === false) {
    problems.push(`${at(['slack', 'signing_secret'])}: Slack posts the clicks to POST /slack/actions on the daemon's port: the intake must be enabled`);
  }
  (config.products ?? []).forEach((p, i) => {
    if (p.approvers && !slack?.signing_secret) {
      problems.push(`${at(['products', i, 'approvers'])}: approvers press buttons in Slack, which needs slack.signing_secret (and slack.token)`);
    }
  });
  const topics = new Set([...config.rules.map((r) => r.topic), ...(config.pipeline_results?.topics ?? [])]);
  for (const topic of Object.keys(config.watchdog?.silence ?? {})) {
    if (!topics.has(topic)) {
      problems.push(`${at(['watchdog', 'silence'], topic)}: no rule or pipeline_results topic is ${topic}, so CVP never receives it (known: ${[...topics].join(', ')})`);
    }
  }
  if (config.watchdog?.channel && !slack) problems.push(`${at(['watchdog', 'channel'])}: the watchdog's notices go to Slack: add a slack section`);
  return problems;
}

/** A job expression can name any job: the rule must say which it may choose, each a valid name. */
function jobChoiceProblems(rule: CvpConfig['rules'][number], executor: string, config: CvpConfig, base: Array<string | number>, at: Where): string[] {
  const problems: string[] = [];
  if (!rule.jobs && rule.job_pattern === undefined) {
    problems.push(`${at([...base, 'job'])}: an expression can name any job: list the jobs it may choose in jobs: [...]${executor === 'jenkins' ? ' (or a job_pattern: they must match)' : ''}`);
  }
  (rule.jobs ?? []).forEach((job, j) => {
    const invalid = jobNameProblem(job);
    if (invalid) problems.push(`${at([...base, 'jobs', j])}: ${invalid}`);
    else if (executor === 'command' && config.command && !Object.hasOwn(config.command.jobs, job)) {
      problems.push(`${at([...base, 'jobs', j])}: command.jobs has no job named "${job}" (known: ${Object.keys(config.command.jobs).join(', ')})`);
    }
  });
  if (rule.job_pattern !== undefined) {
    const reErr = regexError(rule.job_pattern);
    if (reErr) problems.push(`${at([...base, 'job_pattern'])}: regular expression does not compile: ${reErr}`);
    if (executor === 'command') problems.push(`${at([...base, 'job_pattern'])}: the command executor runs only the jobs of command.jobs: list them in jobs: [...]`);
  }
  return problems;
}
