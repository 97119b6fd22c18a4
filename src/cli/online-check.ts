/**
 * The check of a configuration against the systems it names (`cvp config check --online`, and the
 * daemon's start): each rule's Jenkins job must declare CVP_RUN_ID, and should declare every
 * parameter the rule sets. Jobs chosen by an expression (`job: =...`) are checked when first used.
 */
import { JenkinsExecutor } from '../adapters/jenkins/jenkins-executor';
import { durationMs, type LoadedConfig } from '../config/config';
import { describeError } from '../errors';
import { checkJob, type JobCheck } from '../listener/dispatch/job-check';
import type { Executor } from '../listener/ports';

export interface OnlineCheckLine {
  level: 'error' | 'warning' | 'note';
  /** `rules[i] (name)`, then what. */
  message: string;
}

export interface OnlineCheck {
  lines: OnlineCheckLine[];
  /** No error: every literal job can take its rules' runs. */
  ok: boolean;
  /** Rules whose job could not be checked now (an expression, or Jenkins did not answer). */
  deferred: Array<{ rule: string; job: string }>;
}

/** The executors whose jobs declare parameters (Jenkins); the command executor takes any. */
export function onlineExecutors(loaded: LoadedConfig, fetchFn?: typeof fetch): Map<string, Executor> {
  const { config } = loaded;
  const executors = new Map<string, Executor>();
  if (config.jenkins) executors.set('jenkins', jenkinsExecutorOf(config.jenkins, fetchFn));
  return executors;
}

/** The Jenkins executor a config's `jenkins` section describes; the daemon and the online check share it. */
export function jenkinsExecutorOf(jenkins: NonNullable<LoadedConfig['config']['jenkins']>, fetchFn?: typeof fetch, now?: () => number): JenkinsExecutor {
  return new JenkinsExecutor({
    // The daemon's clock: a trigger's deadline is read on it.
    ...(now ? { now } : {}),
    url: jenkins.url, user: jenkins.user, token: jenkins.token,
    requestTimeoutMs: durationMs(jenkins.request_timeout, 30_000),
    locateTimeoutMs: durationMs(jenkins.locate_timeout, 60_000),
    fetch: fetchFn,
  });
}

/**
 * Checks every rule's job. `unreachable`: what a failure that retrying may cure (Jenkins away)
 * becomes: an 'error' for `config check --online` (it must say yes or no), a 'warning' for the
 * daemon's start (it runs while peers are away; such a job is checked when first used).
 */
export async function onlineCheck(loaded: LoadedConfig, executors: Map<string, Executor>, unreachable: 'error' | 'warning'): Promise<OnlineCheck> {
  const { config } = loaded;
  const lines: OnlineCheckLine[] = [];
  const deferred: OnlineCheck['deferred'] = [];
  // One read per job, however many rules use it.
  const declared = new Map<string, Promise<string[] | null>>();
  for (const [i, rule] of config.rules.entries()) {
    const where = `rules[${i}] (${rule.name})`;
    const executorName = rule.executor ?? (config.jenkins ? 'jenkins' : 'command');
    const executor = executors.get(executorName);
    if (!executor) continue;
    if (rule.job.startsWith('=')) {
      lines.push({ level: 'note', message: `${where}: job ${rule.job} is chosen by an expression: checked when first used` });
      deferred.push({ rule: rule.name, job: rule.job });
      continue;
    }
    const key = `${executorName}\u0000${rule.job}`;
    if (!declared.has(key)) declared.set(key, executor.declaredParameters(rule.job));
    const cached = { declaredParameters: () => declared.get(key)! };
    let verdict: JobCheck;
    try {
      verdict = await checkJob(cached, rule.job, Object.keys(rule.parameters ?? {}), where);
    } catch (err) {
      lines.push({ level: unreachable, message: `${where}: cannot check job ${rule.job} now (${describeError(err)})${unreachable === 'warning' ? '; checked when first used' : ''}` });
      deferred.push({ rule: rule.name, job: rule.job });
      continue;
    }
    if (verdict.error) lines.push({ level: 'error', message: verdict.error });
    for (const w of verdict.warnings) lines.push({ level: 'warning', message: w });
  }
  return { lines, ok: !lines.some((l) => l.level === 'error'), deferred };
}

/** `file: error: ...` lines, errors first. */
export function formatOnlineCheck(file: string, check: OnlineCheck): string[] {
  const order = { error: 0, warning: 1, note: 2 } as const;
  return [...check.lines].sort((a, b) => order[a.level] - order[b.level]).map((l) => `${file}: ${l.level}: ${l.message}`);
}
