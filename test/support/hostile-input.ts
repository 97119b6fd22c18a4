import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths';

export const GROUP_QUEUED = 'VirtualTopic.eng.ci.redhat-container-group.test.queued';

/** One of examples/messages, parsed, to be edited freely. */
export function exampleMessage(kind: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(packageRoot, 'examples/messages', `${kind}.json`), 'utf8')) as Record<string, unknown>;
}

/** The event: a group with 120,000 empty images, 360 KB, under the 1 MiB size limit. */
export function emptyImagesEvent(count = 120_000, edit: (e: Record<string, unknown>) => void = () => undefined): string {
  const e = exampleMessage('redhat-container-group.test.queued') as { artifact: Record<string, unknown> };
  e.artifact.images = Array.from({ length: count }, () => ({}));
  edit(e);
  return JSON.stringify(e);
}
