import { loadTemplate, TEMPLATES, applySet } from '../../src/cli/event-templates';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { schemasDir, templatesDir } from '../../src/paths';
import { EventValidator } from '../../src/validator/event-validator';

describe('cvp trigger templates', () => {
  const validator = new EventValidator(schemasDir);

  it.each(Object.keys(TEMPLATES))('%s builds a valid event for its topic', (name) => {
    const a = loadTemplate(name, new Date('2026-11-27T10:00:00Z'));
    const b = loadTemplate(name, new Date('2026-11-27T10:00:01Z'));
    expect(validator.validate(a.topic, a.body)).toEqual({ valid: true });
    expect(JSON.stringify(a.body)).not.toContain('{{');
    // Templates with placeholders give each event its own identity (pipeline id, time).
    const raw = readFileSync(join(templatesDir, TEMPLATES[name].file), 'utf8');
    if (raw.includes('{{uuid}}')) expect(a.body).not.toEqual(b.body);
  });

  it('covers every kind of event CVP takes in', () => {
    expect(new Set(Object.values(TEMPLATES).map((t) => t.topic.split('.').slice(-3).join('.')))).toEqual(new Set([
      'redhat-container-group.test.queued', 'redhat-container-image.test.queued',
      'redhat-container-group.test.complete', 'redhat-container-group.test.error',
      'redhat-container-image.test.complete', 'redhat-container-image.test.error',
      'brew-build.test.complete', 'brew-build.test.error', 'event.state.changed', 'build.state.changed',
    ]));
  });

  it('applies --set overrides: JSON values, text, array indices, new paths', () => {
    const { body } = loadTemplate('group-testing', new Date());
    applySet(body, 'artifact.errata_id=12345');
    applySet(body, 'artifact.images[1].issuer=someone');
    applySet(body, 'artifact.component=Ansible Tower 4');
    applySet(body, 'note.extra={"a":1}');
    const artifact = body.artifact as { errata_id: number; component: string; images: Array<{ issuer: string }> };
    expect(artifact.errata_id).toBe(12345);
    expect(artifact.images[1].issuer).toBe('someone');
    expect(artifact.component).toBe('Ansible Tower 4');
    expect(body.note).toEqual({ extra: { a: 1 } });
    expect(() => applySet(body, 'no-equals-sign')).toThrow(/expected path=value/);
    expect(() => applySet(body, 'a..b=1')).toThrow(/is not a path/);
  });
});
