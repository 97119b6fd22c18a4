import type { ResultRecord } from '../ports';

type Json = Record<string, unknown>;

const OUTCOME: Record<string, string> = { passed: 'PASSED', failed: 'FAILED', info: 'INFO', needs_inspection: 'NEEDS_INSPECTION', not_applicable: 'INFO' };

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

/** The ResultsDB item of an artifact, as the standard results updater keys it. */
export function itemOf(artifact: Json): string {
  const type = str(artifact.type);
  if (type === 'brew-build' || type === 'koji-build' || type === 'redhat-container-image') return str(artifact.nvr || artifact.id);
  return str(artifact.id);
}

/**
 * A pipeline's own test.complete / test.error, read the way the standard results updater reads it:
 * test case namespace.type.category, the outcome from test.result (ERROR for test.error, with
 * error_reason), the item by artifact type.
 */
export function pipelineVerdict(topic: string, body: Json, messageId: string): PipelineVerdict {
  const test = (body.test ?? {}) as Json;
  const artifact = (body.artifact ?? {}) as Json;
  const run = (body.run ?? {}) as Json;
  const pipeline = (body.pipeline ?? {}) as Json;
  const isError = topic.endsWith('.test.error');
  const reason = isError ? str(((body.error ?? {}) as Json).reason) || 'the pipeline reported an error' : null;
  const outcome = isError ? 'ERROR' : OUTCOME[str(test.result)] ?? 'NEEDS_INSPECTION';
  const testcase = `${str(test.namespace)}.${str(test.type)}.${str(test.category)}`;
  const runUrl = str(run.url) || undefined;
  const data: Record<string, string> = { item: itemOf(artifact), type: str(artifact.type), msg_id: messageId };
  for (const key of ['component', 'issuer', 'scratch', 'errata_id']) if (artifact[key] !== undefined) data[key] = str(artifact[key]);
  if (run.log) data.log = str(run.log);
  if (pipeline.id) data.pipeline_id = str(pipeline.id);
  if (pipeline.name) data.pipeline_name = str(pipeline.name);
  if (test.result === 'not_applicable') data.not_applicable = 'true';
  if (reason) data.error_reason = reason.slice(0, 1000);
  const note = reason ?? (str(test.note) || undefined);
  return {
    pipelineId: str(pipeline.id),
    outcome,
    reason,
    runUrl,
    result: {
      testcase: { name: testcase, ...(runUrl ? { ref_url: runUrl } : {}) },
      outcome,
      ...(runUrl ? { ref_url: runUrl } : {}),
      ...(note ? { note } : {}),
      data,
    },
  };
}
