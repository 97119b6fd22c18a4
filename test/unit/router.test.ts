import { CheckDocument, compileCheck } from '../../src/listener/intake/checks/jms-check';
import { checkHolds } from '../../src/listener/intake/router';
import { slackEscape, boundParameter } from '../../src/listener/intake/sanitize';
import { jsonDepth, safeParse } from '../../src/validator/safe-parse';
import { jsonPath } from '../../src/validator/readable-errors';

const event = { artifact: { component: 'Ansible Tower', images: [{ issuer: 'freshmaker', id: 42 }], errata_id: 47960 } };

describe('rule checks, as the Jenkins CI-event trigger does them', () => {
  const holds = (field: string, expected: string): boolean => checkHolds(new CheckDocument(JSON.stringify(event)), [compileCheck({ field, expected })]);
  it('finds the regular expression anywhere in the value', () => {
    expect(holds('$.artifact.component', 'Tower')).toBe(true);
    expect(holds('$.artifact.component', '^Tower$')).toBe(false);
  });
  it('fails when the field is missing, and reads numbers as text', () => {
    expect(holds('$.artifact.nope', '.*')).toBe(false);
    expect(holds('$.artifact.errata_id', '^479')).toBe(true);
    expect(holds('$.artifact.images[0].issuer', 'freshmaker')).toBe(true);
  });
});

describe('untrusted text', () => {
  it('cannot form Slack links or mentions', () => {
    expect(slackEscape('<!channel> <http://evil|click> & co')).toBe('&lt;!channel&gt; &lt;http://evil|click&gt; &amp; co');
  });
  it('is bounded and free of control characters in job parameters', () => {
    expect(boundParameter('a\u0000b\u001bc\nd', 100)).toBe('abc\nd');
    expect(boundParameter('x'.repeat(50), 10)).toHaveLength(10);
  });
  it('cannot reach object prototypes through parsed keys', () => {
    const parsed = safeParse('{"__proto__": {"polluted": true}, "a": {"constructor": {"prototype": {"x": 1}}}}') as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(parsed)).toEqual(['a']);
    expect(Object.keys(parsed.a as object)).toEqual([]);
  });
  it('measures depth without parsing, ignoring brackets in strings', () => {
    expect(jsonDepth('{"a": [[1]], "b": "[[[[["}')).toBe(3);
  });
  it('names places as JSON paths', () => {
    expect(jsonPath('/artifact/images/0/nvr')).toBe('$.artifact.images[0].nvr');
    expect(jsonPath('/data/a:b')).toBe('$.data["a:b"]');
  });
});
