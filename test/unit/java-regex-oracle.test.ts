/**
 * The Java regular expression translation against java.util.regex itself (Java is on the machine
 * for the Jenkins library's tests): for every pattern CVP accepts, find() and matches() on RE2 give
 * Java's answer on every text; every pattern CVP calls invalid does not compile in Java, and every
 * one it calls untranslatable does. Also Double.toString, BigDecimal.toString and a LinkedHashMap's
 * text, as checks print values.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bigDecimalText, javaDoubleText, javaString, parseJava } from '../../src/listener/intake/checks/java-json';
import { compileJavaRegex, RegexError } from '../../src/listener/intake/checks/java-regex';
import { describeRun, runGroovy } from '../support/groovy';

const PATTERNS = [
  'abc', '^abc$', 'a.c', '(?s)a.c', '(?i)ABC', '(?i)\u00e9', '\\s+', '\\S', '\\d{2,}', '\\w+$', 'foo$', 'foo\\Z', 'foo\\z',
  '\\Afoo', '[a-c]+', '[^a-c]', '(?i)[a-c]', '(?i)[^a-c]', '\\p{Alpha}+', '\\p{Punct}', '\\p{Lu}', '\\p{IsLatin}+', '\\h', '\\v',
  '\\R', 'x*+y', 'a++$', '\\Qa.b\\E', '\\x41', '\\u00e9', '\\0101', '\\cA', '(?<n>ab)c', '(?:a|b)+c', 'a{2}', 'a{2,3}?', '[\\w-]+',
  '[-a]', '[a-]', '[]a]', '[^]a]', '\\.', '\\$', '(?i:a)B', 'a(?i)b', '(a(?i)b)c', '(?i)a(?-i)b', '.$', '\\r$', '\\n$', '^$', '',
  '(?m)x', '[\\s]', '[\\S]', '[\\d\\s]+', '\\e', '\\t', '\\p{L}', '\\P{L}', '\\pL', '[\\p{L}]', '[^\\p{L}]', '(?i)k', '(?i)[k-l]',
  '\\p{Space}', '\\x{1F600}', '\u00e9+', '[\u00e0-\u00ff]', '(?s).$', '$', '\\Z', 'a|b$', '(a|b$)', '(?:x$)?', '\\u0041\\u0062',
  'a{,2}', '{', 'a**', '(a', 'a)', '[a', '\\k', '\\y', '\\1', '(a)\\1', '(?=a)', '(?!a)', '(?<=a)b', '(?>a)', '\\bx', '[a&&b]',
  '[[a]]', '(?m)^a', 'a$b', '(?x)a', '(?U)\\w', '(?d).', 'a++a', '\\p{InGreek}', '\\X', '(a$)+',
];
const TEXTS = [
  '', 'abc', 'ABC', 'a\nc', 'a\rc', 'foo\n', 'foo\r\n', 'foo\r', 'foo\u2028', 'xfoo', '\u00e9', '\u00c9', 'a\u00e9', '\u00c9a', 'k', '\u212a',
  'a.b', 'A', 'aab', 'aaa', ' \t', '\u000b', '\u00a0', '12', 'x-y_z', ']a', '$', 'a\u0085b', '\r\n', '\n', 'abc\n\n', 'xxy', 'ab', 'aB',
  'abc\n', '\u001b', '\u0001', 'Ab', '\ud83d\ude00', 'L', 'foo\n\n', 'bc', 'b\n', 'x\n', '{1,2}', 'a1b', 'A1', 'a-', '\\', '&', '(', 'K', '\t1',
];
/** Seeded random patterns from Java regex pieces: many do not compile, some cannot be translated. */
function randomPatterns(n: number, seed: number): string[] {
  const pieces = ['a', 'b', 'k', '\u00e9', '.', '\\s', '\\S', '\\d', '\\w', '[ab]', '[^a]', '[a-c]', '(?i)', '(?s)', '(?-i)', '^', '$', '\\Z', '\\z', '\\A',
    '*', '+', '?', '*+', '++', '?+', '{1,2}', '{2}', '*?', '(', '(?:', ')', '|', '\\n', '\\r', '\\R', '\\h', '\\v', '\\p{Alpha}', '\\p{L}', '\\Qa.\\E', '\\x62',
    '\\Q1\\E', '\\Q\\\\E', '[\\Qa-\\E]', '[a-k&&[^b]]', '[(?i)a]', '(?i)[^k]', '[\\s\\d]', '[-a]', '[\\p{Alpha}&]', '{', '}', ']', '\\1', '(?<=a)',
    '(?=b)', '\\b', '(?m)', '(?x)', '\\0101', '\\u00e9', '\\cA', '\\e', '\\t', '(?<n>', '\\G', '[\\h]', '\\H', '[^\\S]'];
  let x = seed;
  const next = (): number => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x >>> 8; };
  return Array.from({ length: n }, () => Array.from({ length: 1 + (next() % 6) }, () => pieces[next() % pieces.length]).join(''));
}
const RANDOM = [...randomPatterns(600, 20261206), ...randomPatterns(600, 7), ...randomPatterns(Number(process.env.FUZZ_N ?? 0), Number(process.env.FUZZ_SEED ?? 1))];

const DOUBLES = ['1.0', '1E3', '1e7', '1.0E-7', '0.001', '0.0001', '123456.789', '9999999.0', '10000000.0', '-0.0', '2.5', '3.14159', '1e-3', '1.7976931348623157E308', '4.9E-324', '0.1', '100'];
const DECIMALS = ['3.14159265358979323846', '1.0000000000000000000E+30', '0.00000000000000000001', '12345678901234567890.5', '-0.000000000000000000000', '1E-7'];

test('the translation answers as java.util.regex does', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvp-regex-'));
  try {
    const input = path.join(dir, 'input.json');
    const patterns = [...PATTERNS, ...RANDOM];
    fs.writeFileSync(input, JSON.stringify({ patterns, texts: TEXTS, doubles: DOUBLES, decimals: DECIMALS }));
    const run = await runGroovy([path.join(__dirname, '..', 'support', 'java-regex-oracle.groovy'), input]);
    if (run.code !== 0) throw new Error(describeRun(run));
    const java = JSON.parse(run.stdout) as { patterns: Array<{ compiles: boolean; find?: boolean[]; matches?: boolean[] }>; doubles: string[]; decimals: string[]; map: string };
    const differences: string[] = [];
    let translated = 0;
    patterns.forEach((p, i) => {
      const oracle = java.patterns[i];
      let re;
      try {
        re = compileJavaRegex(p, 'find');
      } catch (err) {
        if (!(err instanceof RegexError)) throw err;
        if (err.kind === 'invalid' && oracle.compiles) differences.push(`${JSON.stringify(p)}: CVP says it does not compile in Java, but it does`);
        if (err.kind === 'untranslatable' && !oracle.compiles) differences.push(`${JSON.stringify(p)}: CVP calls it untranslatable, but Java does not compile it`);
        return;
      }
      if (!oracle.compiles) { differences.push(`${JSON.stringify(p)}: CVP accepts it, Java does not compile it`); return; }
      translated++;
      const full = compileJavaRegex(p, 'matches');
      TEXTS.forEach((t, j) => {
        if (re.find(t) !== oracle.find![j]) differences.push(`find ${JSON.stringify(p)} in ${JSON.stringify(t)}: Java ${oracle.find![j]}`);
        if (full.matches(t) !== oracle.matches![j]) differences.push(`matches ${JSON.stringify(p)} on ${JSON.stringify(t)}: Java ${oracle.matches![j]}`);
      });
    });
    expect(differences.slice(0, 30)).toEqual([]);
    expect(translated).toBeGreaterThan(200);
    expect(DOUBLES.map((d) => javaDoubleText(Number(d)))).toEqual(java.doubles);
    expect(DECIMALS.map(bigDecimalText)).toEqual(java.decimals);
    expect(javaString(parseJava('{"b": 1, "1": "x", "n": null, "m": {"c": 2.50}}'))).toBe(java.map);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
