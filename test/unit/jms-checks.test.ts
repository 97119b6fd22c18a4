/**
 * Check verdicts as the JMS Messaging plugin gives them. Every expected verdict is derived from
 * the plugin's and its libraries' code, cited per case:
 *   P   = jenkinsci/jms-messaging-plugin, JMSMessagingProvider.java at parent-2.0.3 (lines 68-117;
 *         parent-1.1.28 is the same but for StringUtils.prependIfMissing at line 102)
 *   J   = json-path/JsonPath at json-path-2.9.0, json-path/src/main/java/com/jayway/jsonpath/internal/...
 *   S   = netplex/json-smart-v2 at 2.5.0, json-smart/src/main/java/net/minidev/json/...
 *   JDK = java.base: Objects.toString, AbstractMap.toString, Double.toString, BigDecimal.toString,
 *         java.util.regex.Pattern (Dollar, Dot, CASE_INSENSITIVE without UNICODE_CASE)
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { checkProblems, checksHold, CheckDocument, compileCheck, evaluateCheck } from '../../src/listener/intake/checks/jms-check';

const EVENT = `{
  "artifact": {
    "type": "redhat-container-group", "id": "g1", "component": "Ansible Tower", "errata_id": 12345,
    "images": [
      { "name": "ansible-tower", "issuer": "freshmaker", "nvr": "ansible-tower-3.5-1", "full_name": "reg/at:1" },
      { "name": "ansible-tower-memcached", "issuer": "someone", "nvr": "memcached-1-1", "full_name": "reg/mc:1" }
    ]
  },
  "ratio": 1.0, "tiny": 1.0E-7, "e3": 1E3, "e7": 1E7, "milli": 0.001, "small": 0.0001,
  "big": 12345678901234567890, "long": 9007199254740993, "neg": -0,
  "pi": 3.14159265358979323846,
  "nothing": null, "empty": [], "flag": true,
  "obj": { "a": 1, "b": "x", "c": null, "d": [1, "two"], "e": { "f": 2.50 } },
  "order": { "b": 1, "1": 2 }, "dup": 1, "dup": 2,
  "url": "https://x.example/a", "text": "line1\\nline2\\n", "crlf": "abc\\r\\n",
  "uni": "\u00c9a", "kelvin": "\u212a", "sep": ["a\u2028b"],
  "nums": [1, 2.5, "3", 10], "words": ["1", "1.0"]
}`;

type Row = [field: string, expected: string | null, holds: boolean, source: string];

const TABLE: Row[] = [
  // The "$." rule and find()
  ['$.artifact.component', 'Ansible Tower', true, 'P:105-110 find()'],
  ['artifact.component', 'Ansible Tower', true, 'P:105-107 "$." put in front'],
  ['$.artifact.component', 'Tower', true, 'P:110 Matcher.find(), not matches()'],
  ['$.artifact.component', '^Tower', false, 'P:110'],
  ['$.artifact.component', '^Ansible Tower$', true, 'P:110'],
  ['$.artifact.component', null, true, 'P:109 defaultString(null) is "", found in any text'],
  ["$['artifact']['component']", 'Tower', false, 'P:105 no "$." prefix: read as $.$[\'artifact\']..., a key "$" that is missing'],
  ["$.artifact['component']", 'Tower', true, 'J path/PathCompiler readBracketPropertyToken'],
  ['$.artifact. component', '', false, 'J path/PathCompiler.java:194 blank in a property: InvalidPathException, P:113'],
  // Definite paths: missing fields fail
  ['$.artifact.images[0].issuer', 'freshmaker', true, 'J path/PathToken.java:133-147 handleArrayIndex'],
  ['$.artifact.images[1].issuer', 'freshmaker', false, 'J PathToken handleArrayIndex'],
  ['$.artifact.images[-1].issuer', '^someone$', true, 'J PathToken.java:137 negative index counts from the end'],
  ['$.artifact.images[5].issuer', '', false, 'J PathToken.java:145 out of bounds is no hit; EvaluationContextImpl.java:137-142 no result: PathNotFoundException, P:111'],
  ['$.artifact.missing', '', false, 'J PathToken.java:56-66 leaf missing: no result; EvaluationContextImpl.java:142'],
  ['$.artifact.missing.deeper', '', false, 'J PathToken.java:70-78 Missing property in path'],
  ['$.artifact.component.foo', '', false, 'J PropertyPathToken.java:62-76 not a map, upstream definite'],
  ['$.artifact.images.issuer', '', false, 'J PropertyPathToken.java:62-76 a list is not a map'],
  ['$.nothing[0]', '', false, 'J ArrayPathToken.java:34-40 The path is null'],
  ["$.artifact.component[?(@ == 'x')]", '', false, 'J PredicatePathToken.java:45-67 filter on a primitive: InvalidPathException, P:113'],
  // null and empty
  ['$.nothing', '', true, 'JDK Objects.toString(null, "") is ""'],
  ['$.nothing', '^$', true, 'JDK Objects.toString(null, "")'],
  ['$.nothing', 'null', false, 'JDK Objects.toString(null, "")'],
  ['$.empty', '^\\[\\]$', true, 'S JSONArray.toString: JSON text'],
  // Indefinite paths are lists, even for one hit or none
  ['$.artifact.images[*].issuer', '^freshmaker$', false, 'J WildcardPathToken; EvaluationContextImpl.java:151 the list itself'],
  ['$.artifact.images[*].issuer', '^\\["freshmaker","someone"\\]$', true, 'S JSONArray.toString, NO_COMPRESS'],
  ["$.artifact.images[?(@.name == 'ansible-tower')].issuer", '^freshmaker$', false, 'J PredicatePathToken: a filter is indefinite'],
  ["$.artifact.images[?(@.name == 'ansible-tower')].issuer", '^\\["freshmaker"\\]$', true, 'J EvaluationContextImpl.java:151'],
  ["$.artifact.images[?(@.name == 'nope')].issuer", '^\\[\\]$', true, 'J EvaluationContextImpl.java:151 empty list, no exception'],
  ["$.artifact.images[?(@.name == 'nope')].issuer", '', true, 'P:110 "" is found in "[]"'],
  ['$.artifact.images[*].missing', '^\\[\\]$', true, 'J PathToken.java:56-62 indefinite: a missing leaf is skipped'],
  ['$..issuer', '^\\["freshmaker","someone"\\]$', true, 'J ScanPathToken.java:47-86 document order'],
  ['$.artifact.images[0:1].issuer', '^\\["freshmaker"\\]$', true, 'J ArraySliceToken.java sliceBetween'],
  ['$.artifact.images[1:].issuer', '^\\["someone"\\]$', true, 'J ArraySliceToken.java sliceFrom'],
  ['$.artifact.images[0,1].name', '^\\["ansible-tower","ansible-tower-memcached"\\]$', true, 'J ArrayIndexToken: several indexes are indefinite'],
  ['$.obj.*', '^\\Q[1,"x",null,[1,"two"],{"f":2.5}]\\E$', true, 'J WildcardPathToken.java:34-40 map values; S JsonWriter'],
  ['$.artifact.images[?(@.issuer)].name', '^\\["ansible-tower","ansible-tower-memcached"\\]$', true, 'J filter/FilterCompiler readExpression: exists check'],
  ['$.artifact.images[?(!@.missing)].name', '^\\["ansible-tower","ansible-tower-memcached"\\]$', true, 'J FilterCompiler: !path is a not-exists check'],
  ["$.artifact.images[?(@.name == 'ansible-tower' && @.issuer == 'freshmaker')].nvr", '^\\["ansible-tower-3.5-1"\\]$', true, 'J FilterCompiler readLogicalAND'],
  ["$.artifact.images[?(@.name == 'x' || @.issuer == 'someone')].nvr", '^\\["memcached-1-1"\\]$', true, 'J FilterCompiler readLogicalOR'],
  ['$.artifact.images[?(@.name =~ /ansible-tower-.*/)].name', '^\\["ansible-tower-memcached"\\]$', true, 'J filter/EvaluatorFactory.java:253-277 matches()'],
  ['$.artifact.images[?(@.name =~ /memcached/)].name', '^\\[\\]$', true, 'J EvaluatorFactory.java:275 matches(), a whole-text match'],
  ['$.nums[?(@ > 1)]', '^\\[2\\.5,10\\]$', true, 'J EvaluatorFactory.java:126 numbers compare; a string "3" and a number do not'],
  ["$.nums[?(@ == '1')]", '^\\[1\\]$', true, 'J filter/ValueNodes.java NumberNode.equals: the string as a BigDecimal'],
  ['$.nums[?(@ == 1.0)]', '^\\[1\\]$', true, 'J ValueNodes NumberNode.equals: BigDecimal.compareTo ignores the scale'],
  ['$.words[?(@ == 1)]', '^\\["1"\\]$', true, 'J ValueNodes StringNode.equals: the number as text'],
  // Numbers as Java prints them (json-smart's types)
  ['$.ratio', '^1\\.0$', true, 'S parser/JSONParserBase.java:152-175 a Double; JDK Double.toString'],
  ['$.ratio', '^1$', false, 'JDK Double.toString(1.0) is "1.0"'],
  ['$.tiny', '^1\\.0E-7$', true, 'JDK Double.toString'],
  ['$.e3', '^1000\\.0$', true, 'JDK Double.toString'],
  ['$.e7', '^1\\.0E7$', true, 'JDK Double.toString: 10^7 and above in E notation'],
  ['$.milli', '^0\\.001$', true, 'JDK Double.toString'],
  ['$.small', '^1\\.0E-4$', true, 'JDK Double.toString: below 10^-3 in E notation'],
  ['$.big', '^12345678901234567890$', true, 'S JSONParserBase.java:233-293 BigInteger, exact'],
  ['$.long', '^9007199254740993$', true, 'S JSONParserBase parseNumber: a Long, exact (not a JS double)'],
  ['$.neg', '^0$', true, 'S JSONParserBase parseNumber: -0 is Integer 0'],
  ['$.pi', '^3\\.14159265358979323846$', true, 'S JSONParserBase.java:161-172 over 18 characters: BigDecimal'],
  ['$.artifact.errata_id', '^12345$', true, 'S an Integer'],
  ['$.flag', '^true$', true, 'JDK Boolean.toString'],
  // Objects as Java maps, lists as JSON text
  ['$.obj', '^\\Q{a=1, b=x, c=null, d=[1,"two"], e={f=2.5}}\\E$', true, 'S DefaultMapperOrdered LinkedHashMap; JDK AbstractMap.toString'],
  ['$.obj.d', '^\\Q[1,"two"]\\E$', true, 'S JSONArray.toString'],
  ['$.obj.e', '^\\{f=2\\.5\\}$', true, 'JDK AbstractMap.toString'],
  ['$.artifact.images[0]', '^\\{name=ansible-tower, issuer=freshmaker', true, 'JDK AbstractMap.toString, keys in document order'],
  ['$.artifact', 'component=Ansible Tower', true, 'JDK AbstractMap.toString'],
  ['$.artifact', '"component"', false, 'JDK AbstractMap.toString: keys are not quoted'],
  ['$.order', '^\\{b=1, 1=2\\}$', true, 'S LinkedHashMap keeps the text\'s order (a JS object would put "1" first)'],
  ['$.dup', '^2$', true, 'S LinkedHashMap.put: the last value of a repeated key'],
  ['$.url', 'https://x', true, 'a string is itself'],
  ['$.artifact.images[*].full_name', 'reg/at', false, 'S JStylerObj.java:269 Escape4Web writes / as \\/'],
  ['$.artifact.images[*].full_name', 'reg\\\\/at', true, 'S JStylerObj Escape4Web'],
  ['$.sep', '^\\Q["a\\u2028b"]\\E$', true, 'S JStylerObj Escape4Web: U+2000..U+20FF as \\uXXXX'],
  // Java regular expressions
  ['$.text', 'line2$', true, 'JDK Pattern.Dollar: $ before a final line terminator'],
  ['$.text', 'line1$', false, 'JDK Pattern.Dollar (not MULTILINE)'],
  ['$.text', 'line2\\z', false, 'JDK Pattern: \\z is the very end'],
  ['$.text', 'line2\\Z', true, 'JDK Pattern: \\Z as $'],
  ['$.crlf', 'abc$', true, 'JDK Pattern.Dollar: before a final \\r\\n'],
  ['$.crlf', '\\r$', false, 'JDK Pattern.Dollar: not between \\r and \\n'],
  ['$.text', 'line1.line2', false, 'JDK Pattern.Dot: . excludes line terminators'],
  ['$.text', '(?s)line1.line2', true, 'JDK Pattern DOTALL'],
  ['$.artifact.component', '(?i)ansible TOWER', true, 'JDK CASE_INSENSITIVE'],
  ['$.uni', '(?i)\u00e9a', false, 'JDK CASE_INSENSITIVE folds US-ASCII only'],
  ['$.kelvin', '(?i)k', false, 'JDK CASE_INSENSITIVE folds US-ASCII only (RE2 would fold the Kelvin sign)'],
  ['$.artifact.component', '\\AAnsible', true, 'JDK Pattern \\A'],
  ['$.artifact.component', '^\\p{Alpha}+ \\p{Upper}', true, 'JDK Pattern POSIX classes (US-ASCII)'],
  ['$.artifact.component', '^\\p{Lower}', false, 'JDK Pattern POSIX classes'],
  ['$.artifact.type', 'container-\\w++$', true, 'JDK possessive at the end: same result as greedy'],
  ['$.artifact.component', '\\d*+Ansible', true, 'JDK possessive before a character it cannot match'],
  ['$.artifact.images[0].nvr', '(?<name>ansible)-tower', true, 'JDK named group'],
  ['$.artifact.component', '\\QAnsible T\\E', true, 'JDK Pattern \\Q...\\E'],
  ['$.artifact.component', '\\x41nsible\\u0020Tower', true, 'JDK Pattern escapes'],
  ['$.artifact.component', '[', false, 'JDK PatternSyntaxException, P:113'],
];

describe('msgChecks as the JMS Messaging plugin evaluates them', () => {
  test.each(TABLE)('%s ~ %s → %s (%s)', (field, expected, holds) => {
    const check = compileCheck({ field, expected });
    expect(evaluateCheck(check, new CheckDocument(EVENT)).holds).toBe(holds);
  });

  test('the table covers at least the 66 kinds of cases the issue measured', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(66);
  });

  test('no checks: every message passes, even a blank one (P:69-71)', () => {
    expect(checksHold([], new CheckDocument(''))).toBe(true);
  });

  test('a blank body or one that is not JSON fails every check (P:72-75, 79-83)', () => {
    const check = compileCheck({ field: '$.a', expected: '' });
    expect(checksHold([check], new CheckDocument('   '))).toBe(false);
    expect(checksHold([check], new CheckDocument('{"a": '))).toBe(false);
    expect(checksHold([check], new CheckDocument('{"a": 1}'))).toBe(true);
  });

  test('all checks must hold (P:85-90)', () => {
    const a = compileCheck({ field: 'artifact.component', expected: 'Ansible' });
    const b = compileCheck({ field: 'artifact.type', expected: 'image' });
    expect(checksHold([a], new CheckDocument(EVENT))).toBe(true);
    expect(checksHold([a, b], new CheckDocument(EVENT))).toBe(false);
  });

  test('without the body text, the parsed event is used', () => {
    const check = compileCheck({ field: '$.a[0]', expected: '^x$' });
    expect(checksHold([check], new CheckDocument(undefined, { a: ['x'] }))).toBe(true);
  });

  test('a value longer than the limit fails the check instead of being searched', () => {
    const check = compileCheck({ field: '$.a', expected: 'a' });
    const doc = new CheckDocument(JSON.stringify({ a: 'a'.repeat(check.maxChars + 1) }));
    const verdict = evaluateCheck(check, doc);
    expect(verdict.holds).toBe(false);
    expect(verdict.reason).toMatch(/over the limit/);
  });

  test('a catastrophic pattern on a long field costs under 10 ms per message (the issue asks for this bound)', () => {
    // Measured in a plain node process on the build (dist/, made by npm test before jest): jest's
    // vm context slows re2js down about a hundredfold, which is not what the daemon runs in.
    const script = `
      const { compileCheck, checksHold, CheckDocument } = require(${JSON.stringify(join(__dirname, '../../dist/src/listener/intake/checks/jms-check.js'))});
      const check = compileCheck({ field: '$.a', expected: '^(a+)+$' });
      const body = JSON.stringify({ a: 'a'.repeat(60000) + 'b' });
      const times = [];
      for (let i = 0; i < 10; i++) {
        // CPU time of this process: what a message costs the daemon, whatever else the machine runs.
        const t = process.cpuUsage();
        if (checksHold([check], new CheckDocument(body))) throw new Error('matched');
        const d = process.cpuUsage(t);
        times.push((d.user + d.system) / 1e3);
      }
      times.sort((x, y) => x - y);
      console.log(JSON.stringify({ median: times[5], all: times }));`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    const { median } = JSON.parse(out) as { median: number };
    expect(median).toBeLessThan(10);
  });
});

describe('config check refuses what the plugin would never match, and what CVP cannot evaluate exactly', () => {
  const refused: Array<[field: string, expected: string, key: 'field' | 'expected', names: RegExp]> = [
    ['$.a', '(Ansible) \\1', 'expected', /backreference \\1/],
    ['$.a', '(?=Ansible)', 'expected', /lookahead/],
    ['$.a', '(?<!x)y', 'expected', /negative lookbehind/],
    ['$.a', '(?>a)', 'expected', /atomic group/],
    ['$.a', '\\bTower', 'expected', /word boundary/],
    ['$.a', '(?m)^line2$', 'expected', /MULTILINE/],
    ['$.a', 'a$b', 'expected', /before the end/],
    ['$.a', '(?x) a b', 'expected', /COMMENTS/],
    ['$.a', '[a-z&&[^aeiou]]', 'expected', /nested character class|intersection/],
    ['$.a', '[[:alpha:]]', 'expected', /nested character class/],
    ['$.a', 'a++a', 'expected', /possessive/],
    ['$.a', '\\p{InGreek}', 'expected', /character property/],
    ['$.a', '[', 'expected', /does not compile in Java/],
    ['$.a', 'x{abc}', 'expected', /does not compile in Java.*repetition/],
    ['$.artifact.component.length()', '', 'field', /function length/],
    ['$.a. b', '', 'field', /does not parse/],
    ['$.a.', '', 'field', /does not parse/],
    ["$.a[?(@.b in ['x'])]", '', 'field', /operator in/],
    ['$..a[0]', '', 'field', /deep scan/],
    ['$.a[?(@.b =~ /(?=x)/)]', '', 'field', /filter pattern.*lookahead/],
    ['$.a[?(@.b =~ /(x/)]', '', 'field', /does not parse.*unclosed group/],
  ];
  test.each(refused)('%s ~ %s is refused on %s', (field, expected, key, names) => {
    const problems = checkProblems({ field, expected });
    expect(problems[key]).toMatch(names);
  });

  test('what CVP takes gives no problem', () => {
    expect(checkProblems({ field: "artifact.images[?(@.name == 'x')].issuer", expected: '(?i)^freshmaker$' })).toEqual({});
  });
});
