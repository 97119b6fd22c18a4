import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { templatesDir } from '../paths';

/** The simulated events `cvp trigger` can build, and the topic each is sent on. */
export const TEMPLATES: Record<string, { file: string; topic: string; about: string }> = {
  'group-testing': { file: 'group-testing.json', topic: 'VirtualTopic.eng.ci.redhat-container-group.test.queued', about: 'a group of rebuilt images (Ansible Tower, 3 images)' },
  image: { file: 'image.json', topic: 'VirtualTopic.eng.ci.redhat-container-image.test.queued', about: 'one rebuilt container image' },
  'group-complete': { file: 'group-complete.json', topic: 'VirtualTopic.eng.ci.redhat-container-group.test.complete', about: 'a pipeline\'s result for a group' },
  'group-error': { file: 'group-error.json', topic: 'VirtualTopic.eng.ci.redhat-container-group.test.error', about: 'a pipeline\'s error for a group' },
  'image-complete': { file: 'image-complete.json', topic: 'VirtualTopic.eng.ci.redhat-container-image.test.complete', about: 'a pipeline\'s result for one image' },
  'image-error': { file: 'image-error.json', topic: 'VirtualTopic.eng.ci.redhat-container-image.test.error', about: 'a pipeline\'s error for one image' },
  'brew-build-complete': { file: 'brew-build-complete.json', topic: 'VirtualTopic.eng.ci.brew-build.test.complete', about: 'a pipeline\'s result for one build (set pipeline.id to a CVP run id to end that run)' },
  'brew-build-error': { file: 'brew-build-error.json', topic: 'VirtualTopic.eng.ci.brew-build.test.error', about: 'a pipeline\'s error for one build' },
  'freshmaker-event': { file: 'freshmaker-event.json', topic: 'VirtualTopic.eng.freshmaker.event.state.changed', about: 'Freshmaker: an event changed state' },
  'freshmaker-build': { file: 'freshmaker-build.json', topic: 'VirtualTopic.eng.freshmaker.build.state.changed', about: 'Freshmaker: a rebuild changed state' },
};

export function fillPlaceholders(text: string, now: Date, uuid: () => string = randomUUID): string {
  const id = uuid();
  return text.replace(/\{\{uuid\}\}/g, id).replace(/\{\{now\}\}/g, now.toISOString());
}

export function loadTemplate(name: string, now: Date): { topic: string; body: Record<string, unknown> } {
  const t = TEMPLATES[name];
  if (!t) throw new Error(`no template named "${name}" (known: ${Object.keys(TEMPLATES).join(', ')})`);
  return { topic: t.topic, body: JSON.parse(fillPlaceholders(readFileSync(join(templatesDir, t.file), 'utf8'), now)) };
}

type Seg = string | number;

/** `artifact.images[0].nvr` → ['artifact', 'images', 0, 'nvr'] */
export function parseSetPath(path: string): Seg[] {
  if (!/^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*|\[\d+\])*$/.test(path)) {
    throw new Error(`--set: "${path}" is not a path like artifact.images[0].nvr`);
  }
  const segs: Seg[] = [];
  for (const m of path.matchAll(/([A-Za-z_][\w-]*)|\[(\d+)\]/g)) segs.push(m[1] !== undefined ? m[1] : Number(m[2]));
  return segs;
}

/** Applies `path=value`; the value is taken as JSON when it parses (numbers, true, null, objects), else as text. */
export function applySet(body: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new Error(`--set: expected path=value, found "${assignment}"`);
  const segs = parseSetPath(assignment.slice(0, eq));
  const raw = assignment.slice(eq + 1);
  let value: unknown;
  try { value = JSON.parse(raw); } catch { value = raw; }
  let cur: Record<string | number, unknown> = body;
  segs.forEach((seg, i) => {
    if (i === segs.length - 1) { cur[seg] = value; return; }
    if (cur[seg] === undefined || cur[seg] === null || typeof cur[seg] !== 'object') cur[seg] = typeof segs[i + 1] === 'number' ? [] : {};
    cur = cur[seg] as Record<string | number, unknown>;
  });
}
