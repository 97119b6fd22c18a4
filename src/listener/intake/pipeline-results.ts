import type { ResultRecord } from '../ports';

type Json = Record<string, unknown>;

/**
 * test.result → ResultsDB outcome, as the standard results updater maps it (upper case, with its
 * fixes for producers' variants). `not_applicable` has no outcome of its own in ResultsDB: INFO,
 * marked in data, so it passes without claiming a test ran.
 */
const OUTCOME: Record<string, string> = {
  passed: 'PASSED', pass: 'PASSED', failed: 'FAILED', fail: 'FAILED', failure: 'FAILED', info: 'INFO',
  needs_inspection: 'NEEDS_INSPECTION', not_applicable: 'INFO',
};

/** Most a data value may hold (ResultsDB indexes data values; the updater crops at 8 KiB). */
const MAX_DATA = 8192;

export interface PipelineVerdict {
  /** pipeline.id: a CVP run id when the message is about one of CVP's runs. */
  pipelineId: string;
  outcome: string;
  reason: string | null;
  runUrl: string | undefined;
  result: ResultRecord;
}

function str(v: unknown): string {
  return v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
}

/** A boolean as producers send it: a bool, or "true"/"false" in the wild. */
function truthy(v: unknown): boolean {
  return v === true || (typeof v === 'string' && v.toLowerCase() === 'true');
}

/** The first system of `system` (a list, or sometimes a single object). */
function firstSystem(body: Json): Json {
  const s = body.system;
  if (Array.isArray(s)) return (s[0] ?? {}) as Json;
  return (s && typeof s === 'object' ? s : {}) as Json;
}

/**
 * The ResultsDB item, type and artifact keys of a ci-messages artifact, as the standard results
 * updater writes them: a brew build by NVR (`brew-build_scratch` for a scratch build); a container
 * image by its digest (`artifact.id`) with the NVR under `nvr`, which Greenwave's
 * redhat-container-image subject type queries; a group (CVP's own) by its id.
 */
export function artifactResultData(artifact: Json, body: Json = {}): Record<string, string | string[]> {
  const type = str(artifact.type);
  const run = (body.run ?? {}) as Json;
  const out: Record<string, string | string[] | undefined> = {};
  if (type === 'brew-build' || type === 'koji-build') {
    const scratch = truthy(artifact.scratch);
    Object.assign(out, {
      item: str(artifact.nvr), type: scratch ? `${type}_scratch` : type, brew_task_id: str(artifact.id) || undefined,
      component: str(artifact.component) || undefined, scratch: String(scratch), issuer: str(artifact.issuer) || undefined,
    });
  } else if (type === 'redhat-container-image') {
    const names = Array.isArray(artifact.full_names) ? artifact.full_names.map(str) : undefined;
    Object.assign(out, {
      item: str(artifact.id), type, nvr: str(artifact.nvr) || undefined, brew_task_id: str(artifact.task_id) || undefined,
      brew_build_id: str(artifact.build_id) || undefined, full_names: names, registry_url: str(artifact.registry_url) || undefined,
      tag: str(artifact.tag) || undefined, issuer: str(artifact.issuer) || undefined, component: str(artifact.component) || undefined,
      name: str(artifact.name) || undefined, namespace: str(artifact.namespace) || undefined,
      scratch: artifact.scratch === undefined ? undefined : String(truthy(artifact.scratch)), source: str(artifact.source) || undefined,
    });
  } else {
    Object.assign(out, { item: str(artifact.id), type, component: str(artifact.component) || undefined });
  }
  if (run.rebuild) out.rebuild = str(run.rebuild);
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined && v !== '')) as Record<string, string | string[]>;
}

/** The updater's `ci_*` keys: from `contact` (0.2.1 and later) or `ci` (0.2.0). */
function contactData(body: Json): Record<string, string> {
  const c = ((body.contact ?? body.ci ?? {}) as Json);
  const out: Record<string, string> = {};
  if (c.name !== undefined) out.ci_name = str(c.name);
  if (c.team !== undefined) out.ci_team = str(c.team);
  out.ci_url = str(c.url) || 'not available';
  out.ci_irc = str(c.irc) || 'not available';
  if (c.email !== undefined) out.ci_email = str(c.email);
  return out;
}

function crop(data: Record<string, string | string[]>): Record<string, string | string[]> {
  for (const [k, v] of Object.entries(data)) {
    if (typeof v === 'string' && v.length > MAX_DATA) data[k] = `${v.slice(0, MAX_DATA - 3)}...`;
    else if (Array.isArray(v)) data[k] = v.map((x) => (x.length > MAX_DATA ? `${x.slice(0, MAX_DATA - 3)}...` : x));
  }
  return data;
}

/**
 * A pipeline's own test.complete / test.error, written the way the standard results updater
 * (release-engineering/resultsdb-updater) writes it: test case namespace.type.category with its
 * ref_url from test.docs (never a build); the outcome from test.result (ERROR for test.error, with
 * error_reason and issue_url); item and keys by artifact type; scenario and the first system's
 * os/provider/architecture/variant; the contact's ci_* keys, recipients, category, log; the
 * publisher (JMSXUserID). CVP adds `msg_id` and the pipeline's id and name, replacing nothing.
 */
export function pipelineVerdict(topic: string, body: Json, messageId: string, headers: Record<string, string> = {}): PipelineVerdict {
  const test = (body.test ?? {}) as Json;
  const artifact = (body.artifact ?? {}) as Json;
  const run = (body.run ?? {}) as Json;
  const pipeline = (body.pipeline ?? {}) as Json;
  const error = (body.error ?? {}) as Json;
  const isError = topic.endsWith('.test.error');
  const reason = isError ? (str(error.reason) || 'the pipeline reported an error').slice(0, 256) : null;
  const result = str(test.result).toLowerCase();
  const outcome = isError ? 'ERROR' : OUTCOME[result] ?? (result ? result.toUpperCase() : 'NEEDS_INSPECTION');
  const testcase = `${str(test.namespace)}.${str(test.type)}.${str(test.category)}`;
  const runUrl = str(run.url) || undefined;
  const system = firstSystem(body);
  const data: Record<string, string | string[]> = { ...artifactResultData(artifact, body), ...contactData(body) };
  if (test.category !== undefined) data.category = str(test.category);
  if (run.log) data.log = str(run.log);
  for (const key of ['os', 'provider', 'architecture', 'variant']) if (system[key] !== undefined) data[`system_${key}`] = str(system[key]);
  const recipients = ((body.notification ?? {}) as Json).recipients;
  if (Array.isArray(recipients)) data.recipients = recipients.map(str);
  if (headers.JMSXUserID) data.publisher_id = headers.JMSXUserID;
  if (test.scenario !== undefined && test.scenario !== null) data.scenario = str(test.scenario);
  if (test.xunit) data.xunit = str(test.xunit);
  if (reason) {
    data.error_reason = reason;
    if (error.issue_url) data.issue_url = str(error.issue_url);
  }
  if (result === 'not_applicable') data.not_applicable = 'true';
  data.msg_id = messageId;
  if (pipeline.id) data.pipeline_id = str(pipeline.id);
  if (pipeline.name) data.pipeline_name = str(pipeline.name);
  const note = str(test.note) || (reason ?? undefined);
  const docs = typeof test.docs === 'string' && test.docs ? test.docs : undefined;
  return {
    pipelineId: str(pipeline.id),
    outcome,
    reason,
    runUrl,
    result: {
      testcase: { name: testcase, ...(docs ? { ref_url: docs } : {}) },
      outcome,
      ...(runUrl ? { ref_url: runUrl } : {}),
      ...(note ? { note } : {}),
      data: crop(data),
    },
  };
}
