import { checkHolds } from '../../src/listener/intake/router';
import { slackEscape, boundParameter } from '../../src/listener/intake/sanitize';
import { jsonDepth, safeParse } from '../../src/validator/safe-parse';
import { jsonPath } from '../../src/validator/readable-errors';

const event = { artifact: { component: 'Ansible Tower', images: [{ issuer: 'freshmaker', id: 42 }], errata_id: 47960 } };

describe('rule checks, as the Jenkins CI-event trigger does them', () => {
  it('finds the regular expression anywhere in the value', () => {
    expect(checkHolds(event, { field: '$.artifact.component', expected: /Tower/ })).toBe(true);
    expect(checkHolds(event, { field: '$.artifact.component', expected: /^Tower$/ })).toBe(false);
  });
  it('fails when the field is missing, and reads numbers as text', () => {
    expect(checkHolds(event, { field: '$.artifact.nope', expected: /.*/ })).toBe(false);
    expect(checkHolds(event, { field: '$.artifact.errata_id', expected: /^479/ })).toBe(true);
    expect(checkHolds(event, { field: '$.artifact.images[0].issuer', expected: /freshmaker/ })).toBe(true);
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
