/**
 * The Jenkins stand-in's state and how real Jenkins (2.4xx, Pipeline jobs) renders it as JSON.
 * Shapes follow /api/json of WorkflowJob, WorkflowRun and Queue$WaitingItem / Queue$LeftItem.
 * `builds` is Job.getNewBuilds() (the 100 newest); `allBuilds` (Job.getBuilds(), exported with
 * visibility -2) appears only when a tree names it.
 */
import { LazyList } from './jenkins-tree-filter';

export type JenkinsResult = 'SUCCESS' | 'UNSTABLE' | 'FAILURE' | 'ABORTED' | 'NOT_BUILT';

export type ParameterType = 'string' | 'boolean' | 'choice' | 'text';

export interface JobDefinition {
  /** Declared parameter names; Jenkins drops anything else. An empty list makes the job unparameterised. */
  parameters: string[];
  /** The kind of each declared parameter (String by default), rendered with its own _class. */
  parameterTypes?: Record<string, ParameterType>;
  /** Other job properties (their _class), listed in `property` before the parameters' one. */
  properties?: string[];
  /** Values for declared parameters the client leaves out (Jenkins fills in defaults); '' otherwise. */
  defaults?: Record<string, string>;
  result?: JenkinsResult | ((params: Record<string, string>) => JenkinsResult);
  /** How long the item waits in the queue before it gets a build number. */
  queueMs?: number;
  /** How long the build runs once started. */
  runMs?: number;
  /** The build runs until finishBuild() or a stop request. */
  neverFinishes?: boolean;
}

export interface Job {
  fullName: string;
  def: JobDefinition;
  nextNumber: number;
}

export interface QueueItem {
  id: number;
  job: Job;
  params: Record<string, string>;
  dropped: string[];
  inQueueSince: number;
  leaveAt: number;
  cancelled: boolean;
  /** When it was cancelled in the queue. */
  cancelledAt?: number;
  /** Accepted, with the answer lost on its way back (the stand-in's switch). */
  answerLost?: boolean;
  /** Triggered by someone else, not through the API under test. */
  byAnotherUser?: boolean;
  build?: Build;
}

export interface Build {
  number: number;
  item: QueueItem;
  timestamp: number;
  finishAt?: number;
  result: JenkinsResult | null;
  duration: number;
}

const JOB_CLASS = 'org.jenkinsci.plugins.workflow.job.WorkflowJob';
/** Job.getNewBuilds(): `builds` holds at most this many, the newest. */
export const NEW_BUILDS_CAP = 100;
const PARAMETER_CLASSES: Record<ParameterType, { definition: string; value: string }> = {
  string: { definition: 'hudson.model.StringParameterDefinition', value: 'hudson.model.StringParameterValue' },
  boolean: { definition: 'hudson.model.BooleanParameterDefinition', value: 'hudson.model.BooleanParameterValue' },
  choice: { definition: 'hudson.model.ChoiceParameterDefinition', value: 'hudson.model.StringParameterValue' },
  text: { definition: 'hudson.model.TextParameterDefinition', value: 'hudson.model.TextParameterValue' },
};
const RUN_CLASS = 'org.jenkinsci.plugins.workflow.job.WorkflowRun';
const COLORS: Record<JenkinsResult, string> = {
  SUCCESS: 'blue',
  UNSTABLE: 'yellow',
  FAILURE: 'red',
  ABORTED: 'aborted',
  NOT_BUILT: 'notbuilt',
};

export class JenkinsJson {
  constructor(
    private readonly base: () => string,
    private readonly user: string,
  ) {}

  jobUrl(job: Job): string {
    return `${this.base()}/${job.fullName.split('/').map((p) => `job/${encodeURIComponent(p)}/`).join('')}`;
  }

  buildUrl(build: Build): string {
    return `${this.jobUrl(build.item.job)}${build.number}/`;
  }

  color(builds: Build[]): string {
    const last = builds[0];
    if (!last) return 'notbuilt';
    const done = builds.find((b) => b.result !== null);
    const base = done?.result ? COLORS[done.result] : 'notbuilt';
    return last.result === null ? `${base}_anime` : base;
  }

  shallowBuild(build: Build | undefined): unknown {
    return build ? { _class: RUN_CLASS, number: build.number, url: this.buildUrl(build) } : null;
  }

  actions(item: QueueItem): unknown[] {
    const cause = {
      _class: 'hudson.model.CauseAction',
      causes: [
        {
          _class: 'hudson.model.Cause$UserIdCause',
          shortDescription: `Started by user ${this.user}`,
          userId: this.user,
          userName: this.user,
        },
      ],
    };
    if (!item.job.def.parameters.length) return [cause];
    const parameters = Object.entries(item.params).map(([name, value]) => this.parameterValue(item.job, name, value));
    return [{ _class: 'hudson.model.ParametersAction', parameters }, cause];
  }

  parameterValue(job: Job, name: string, value: string): unknown {
    const type = job.def.parameterTypes?.[name] ?? 'string';
    return { _class: PARAMETER_CLASSES[type].value, name, value: type === 'boolean' ? value === 'true' : value };
  }

  /** `idx`: the build's place in `builds` (newest first), when the caller knows it. */
  build(build: Build, builds: Build[], idx = builds.indexOf(build)): unknown {
    const building = build.result === null;
    const [, display] = this.names(build.item.job);
    return {
      _class: RUN_CLASS,
      actions: this.actions(build.item),
      artifacts: [],
      building,
      description: null,
      displayName: `#${build.number}`,
      duration: build.duration,
      estimatedDuration: build.item.job.def.runMs ?? 0,
      executor: building ? { _class: 'hudson.model.OneOffExecutor' } : null,
      fullDisplayName: `${display} #${build.number}`,
      id: String(build.number),
      keepLog: false,
      number: build.number,
      queueId: build.item.id,
      result: build.result,
      timestamp: build.timestamp,
      url: this.buildUrl(build),
      changeSets: [],
      culprits: [],
      inProgress: building,
      nextBuild: idx > 0 ? this.shallowBuild(builds[idx - 1]) : null,
      previousBuild: this.shallowBuild(builds[idx + 1]),
    };
  }

  /** `builds` newest first, as Jenkins lists them; `allBuilds` is rendered only when asked for. */
  job(job: Job, builds: Build[], waiting: QueueItem | undefined, now: number, deep: boolean, withAllBuilds = false): unknown {
    const [name, display] = this.names(job);
    const render = (b: Build | undefined) => (b && deep ? this.build(b, builds) : this.shallowBuild(b));
    const list = (length: number) => new LazyList(length, (i) => (deep ? this.build(builds[i], builds, i) : this.shallowBuild(builds[i])));
    const defs = job.def.parameters.map((p) => {
      const type = job.def.parameterTypes?.[p] ?? 'string';
      return {
        _class: PARAMETER_CLASSES[type].definition,
        defaultParameterValue: this.parameterValue(job, p, job.def.defaults?.[p] ?? (type === 'boolean' ? 'false' : '')),
        description: null,
        name: p,
        type: PARAMETER_CLASSES[type].definition.replace(/^hudson\.model\./, ''),
        ...(type === 'choice' ? { choices: [job.def.defaults?.[p] ?? ''] } : {}),
      };
    });
    const parameters = defs.length ? [{ _class: 'hudson.model.ParametersDefinitionProperty', parameterDefinitions: defs }] : [];
    const property = [...(job.def.properties ?? []).map((c) => ({ _class: c })), ...parameters];
    return {
      _class: JOB_CLASS,
      actions: parameters,
      description: null,
      displayName: name,
      fullDisplayName: display,
      fullName: job.fullName,
      name,
      url: this.jobUrl(job),
      buildable: true,
      ...(withAllBuilds ? { allBuilds: list(builds.length) } : {}),
      builds: list(Math.min(builds.length, NEW_BUILDS_CAP)),
      color: this.color(builds),
      firstBuild: render(builds[builds.length - 1]),
      inQueue: waiting !== undefined,
      lastBuild: render(builds[0]),
      lastCompletedBuild: render(builds.find((b) => b.result !== null)),
      lastSuccessfulBuild: render(builds.find((b) => b.result === 'SUCCESS')),
      nextBuildNumber: job.nextNumber,
      property,
      queueItem: waiting ? this.queueItem(waiting, now, builds) : null,
    };
  }

  queueItem(item: QueueItem, now: number, jobBuilds: Build[]): unknown {
    const left = item.cancelled || item.build !== undefined;
    const [name] = this.names(item.job);
    const common = {
      actions: this.actions(item),
      blocked: false,
      buildable: false,
      id: item.id,
      inQueueSince: item.inQueueSince,
      params: Object.entries(item.params)
        .map(([k, v]) => `\n${k}='${v}'`)
        .join(''),
      stuck: false,
      task: { _class: JOB_CLASS, name, url: this.jobUrl(item.job), color: this.color(jobBuilds) },
      url: `queue/item/${item.id}/`,
    };
    if (!left) {
      const secs = Math.max(0, (item.leaveAt - now) / 1000).toFixed(1);
      return {
        _class: 'hudson.model.Queue$WaitingItem',
        ...common,
        why: `In the quiet period. Expires in ${secs} sec`,
        timestamp: item.leaveAt,
      };
    }
    // Only a LeftItem has `cancelled` and `executable` (null when cancelled before it started).
    return {
      _class: 'hudson.model.Queue$LeftItem',
      ...common,
      why: null,
      cancelled: item.cancelled,
      executable: this.shallowBuild(item.build),
    };
  }

  private names(job: Job): [string, string] {
    const parts = job.fullName.split('/');
    return [parts[parts.length - 1], parts.join(' » ')];
  }
}
