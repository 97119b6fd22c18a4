import type { EventValidator } from '../../validator/event-validator';
import { describeError } from '../../errors';
import type { NewEffect, ReportItem, Run } from '../domain';
import type { Clock, Logger } from '../ports';

export interface CiMessagesOptions {
  contact: Record<string, string>;
  /** Where the messages go: <prefix>.<artifact-type>.test.<stage>, e.g. /topic/VirtualTopic.eng.ci */
  topicPrefix: string;
  /** A page for a run before Jenkins gave it a build URL; {run_id} is replaced. */
  runUrl: string;
  validator: EventValidator;
  clock: Clock;
  log: Logger;
}

export type Stage = 'queued' | 'running' | 'complete' | 'error';

const RESULT: Record<string, string> = { PASSED: 'passed', FAILED: 'failed', INFO: 'info', NEEDS_INSPECTION: 'needs_inspection' };

/** `ansible-tower-35.default.integration` → namespace ansible-tower-35, type default, category integration. */
export function splitTestcase(name: string): { namespace: string; type: string; category: string } {
  const parts = name.split('.');
  return { namespace: parts.slice(0, -2).join('.'), type: parts[parts.length - 2], category: parts[parts.length - 1] };
}

/**
 * The ci-messages CVP sends for each image under test (brew-build for the images of a group, the
 * event's own artifact type otherwise), validated like incoming ones before they are queued.
 */
export class CiMessages {
  constructor(private readonly opts: CiMessagesOptions) {}

  private artifactOf(run: Run, item: ReportItem): { type: string; artifact: Record<string, unknown> } {
    if (run.context.artifactType === 'redhat-container-group' || !run.context.artifact) {
      return {
        type: 'brew-build',
        artifact: {
          type: 'brew-build', id: Number(item.data.build_id), issuer: String(item.data.issuer || 'unknown'),
          component: String(item.data.component ?? ''), nvr: item.item, scratch: false,
        },
      };
    }
    return { type: run.context.artifactType, artifact: run.context.artifact };
  }

  forRun(run: Run, stage: Stage, buildUrl: string | undefined, outcome?: string, reason?: string | null): NewEffect[] {
    const url = buildUrl ?? this.opts.runUrl.replace('{run_id}', encodeURIComponent(run.id));
    const effects: NewEffect[] = [];
    for (const item of run.items) {
      const { type, artifact } = this.artifactOf(run, item);
      const body: Record<string, unknown> = {
        contact: this.opts.contact,
        run: { url, log: buildUrl ? `${buildUrl.replace(/\/$/, '')}/console` : url },
        artifact,
        // The run id, so a listener (CVP itself included) can tie the message to the run.
        pipeline: { id: run.id, name: run.job },
        test: { ...splitTestcase(run.testcase), ...(stage === 'complete' ? { result: RESULT[outcome ?? ''] ?? 'needs_inspection' } : {}) },
        generated_at: new Date(this.opts.clock.now()).toISOString(),
        version: '1.1.0',
      };
      if (stage === 'complete') body.system = [];
      if (stage === 'error') body.error = { reason: (reason ?? 'the build ended in error').slice(0, 1000) };
      const topic = `${this.opts.topicPrefix.replace(/^\/topic\//, '')}.${type}.test.${stage}`;
      try {
        this.opts.validator.assertValid(topic, body);
      } catch (err) {
        this.opts.log.error({ runId: run.id, topic, err: describeError(err), reasons: (err as { reasons?: string[] }).reasons }, 'outgoing CI message is invalid; not sent');
        continue;
      }
      effects.push({ peer: 'bus', runId: run.id, orderKey: `run|${run.id}`, payload: { kind: 'publish', destination: `/topic/${topic}`, body: JSON.stringify(body), headers: { 'cvp-run-id': run.id } } });
    }
    return effects;
  }
}
