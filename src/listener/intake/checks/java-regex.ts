/**
 * java.util.regex patterns run on RE2 (re2js: linear time). A Java pattern is translated construct
 * by construct into RE2 syntax that matches exactly the same texts; a construct without an exact
 * translation is refused, naming it. Where Java and RE2 read the same syntax differently, the
 * translation spells Java's meaning out:
 * - `.` excludes Java's line terminators (\n \r \u0085 \u2028 \u2029), not only \n;
 * - `\s` includes \x0B (RE2's [[:space:]]); `\h`, `\v`, `\R` as Java 8 defines them (`\R` is
 *   atomic in Java: accepted only where that cannot matter);
 * - `\Q...\E` is turned into escaped characters first, as Pattern.RemoveQEQuoting does;
 * - `(?i)` folds ASCII letters only (Java's CASE_INSENSITIVE without UNICODE_CASE);
 * - `$` and `\Z` also match before one final line terminator; they are accepted only where
 *   nothing can follow them, and find() then also tries the text without that terminator;
 * - `\p{Alpha}` and the other POSIX names are ASCII classes, as in Java.
 * Refused: backreferences, lookahead, lookbehind, atomic groups, `\b`/`\B` (Java's word boundary
 * counts non-ASCII letters as word characters), nested classes and `&&`, `(?m)` with ^ or $,
 * (?d) (?x) (?U), (?iu), possessive quantifiers except where they cannot change the result.
 */
import { RE2JS } from 're2js';

export class RegexError extends Error {
  /** untranslatable: Java compiles it, RE2 cannot run it exactly; invalid: Java itself refuses it. */
  constructor(message: string, readonly kind: 'untranslatable' | 'invalid') {
    super(message);
    this.name = 'RegexError';
  }
}

const refuse = (construct: string): never => { throw new RegexError(`${construct} has no exact translation for a linear-time engine`, 'untranslatable'); };
const invalid = (why: string): never => { throw new RegexError(`does not compile in Java: ${why}`, 'invalid'); };

interface Flags { i: boolean; s: boolean; m: boolean; u: boolean }

type Node =
  | { k: 'seq'; items: Node[] }
  | { k: 'alt'; alts: Node[] }
  | { k: 'group'; body: Node }
  | { k: 'rep'; body: Node; min: number; max: number; lazy: boolean; possessive: boolean; at: number }
  | { k: 'atom'; re2: string; single: boolean; cp?: number; ci?: boolean; lineBreak?: boolean }
  | { k: 'anchor'; re2: string }
  | { k: 'end'; at: number }
  | { k: 'jz' };

const LINE_TERMINATORS = '\\n\\r\\x{85}\\x{2028}\\x{2029}';
const NEVER = '[^\\x{0}-\\x{10FFFF}]';

function hex(cp: number): string { return `\\x{${cp.toString(16).toUpperCase()}}`; }
function lit(cp: number): string { return /[A-Za-z0-9 ]/.test(String.fromCodePoint(cp)) ? String.fromCodePoint(cp) : hex(cp); }
const isLower = (cp: number): boolean => cp >= 97 && cp <= 122;
const isUpper = (cp: number): boolean => cp >= 65 && cp <= 90;

/** ASCII counterparts of a range, as Java's CASE_INSENSITIVE (without UNICODE_CASE) adds them. */
function foldRange(lo: number, hi: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const a = Math.max(lo, 65); const b = Math.min(hi, 90);
  if (a <= b) out.push([a + 32, b + 32]);
  const c = Math.max(lo, 97); const d = Math.min(hi, 122);
  if (c <= d) out.push([c - 32, d - 32]);
  return out;
}

const POSIX: Record<string, string> = {
  Lower: 'lower', Upper: 'upper', ASCII: 'ascii', Alpha: 'alpha', Digit: 'digit', Alnum: 'alnum', Punct: 'punct',
  Graph: 'graph', Print: 'print', Blank: 'blank', Cntrl: 'cntrl', XDigit: 'xdigit', Space: 'space',
};
const CATEGORIES = new Set(['L', 'Lu', 'Ll', 'Lt', 'Lm', 'Lo', 'M', 'Mn', 'Mc', 'Me', 'N', 'Nd', 'Nl', 'No', 'P', 'Pc', 'Pd', 'Ps', 'Pe', 'Pi', 'Pf', 'Po',
  'S', 'Sm', 'Sc', 'Sk', 'So', 'Z', 'Zs', 'Zl', 'Zp', 'C', 'Cc', 'Cf', 'Co', 'Cs']);
const CASED = new Set(['Lower', 'Upper', 'Lu', 'Ll', 'Lt']);

class Parser {
  i = 0;
  groups = 0;
  /** Constructs Java takes and RE2 cannot run exactly; parsing goes on, so Java's syntax errors still show. */
  readonly refusals: string[] = [];
  constructor(readonly p: string) {}

  refuse(construct: string): Node {
    this.refusals.push(construct);
    return { k: 'atom', re2: '(?:)', single: false };
  }

  get done(): boolean { return this.i >= this.p.length; }
  peek(off = 0): string { return this.p[this.i + off] ?? ''; }
  cp(): number { const c = this.p.codePointAt(this.i) as number; this.i += c > 0xffff ? 2 : 1; return c; }

  parseAlt(flagsIn: Flags, depth: number): Node {
    const flags = { ...flagsIn };
    const alts: Node[] = [];
    let items: Node[] = [];
    while (!this.done && this.peek() !== ')') {
      if (this.peek() === '|') { this.i++; alts.push({ k: 'seq', items }); items = []; continue; }
      const atom = this.parseAtom(flags, depth);
      if (atom === null) continue;
      items.push(this.parseQuantifier(atom));
    }
    alts.push({ k: 'seq', items });
    return alts.length === 1 ? alts[0] : { k: 'alt', alts };
  }

  parseQuantifier(atom: Node): Node {
    const c = this.peek();
    let min: number; let max: number;
    const at = this.i;
    if (c === '*') { min = 0; max = Infinity; this.i++; }
    else if (c === '+') { min = 1; max = Infinity; this.i++; }
    else if (c === '?') { min = 0; max = 1; this.i++; }
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.p.slice(this.i));
      if (!m) return invalid(`illegal repetition at index ${this.i}`);
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (max < min) invalid(`illegal repetition range at index ${this.i}`);
      if (min > 1000 || (max !== Infinity && max > 1000)) this.refuse(`the repetition ${m[0]} (above 1000)`);
      this.i += m[0].length;
    } else return atom;
    let lazy = false; let possessive = false;
    if (this.peek() === '?') { lazy = true; this.i++; } else if (this.peek() === '+') { possessive = true; this.i++; }
    const next = this.peek();
    if (next === '*' || next === '+' || next === '?') invalid(`dangling meta character '${next}' at index ${this.i}`);
    // A repeated zero-width assertion: optional, it always holds; required, it is itself.
    if (atom.k === 'anchor' || atom.k === 'end' || atom.k === 'jz') return min === 0 ? { k: 'atom', re2: '(?:)', single: false } : atom;
    return { k: 'rep', body: atom, min, max, lazy, possessive, at };
  }

  /** One atom; null for an inline flag group, which only changes the flags. */
  parseAtom(flags: Flags, depth: number): Node | null {
    const start = this.i;
    const c = this.peek();
    switch (c) {
      case '(': return this.parseGroup(flags, depth);
      case '[': return this.parseClass(flags);
      case '.': this.i++; return { k: 'atom', re2: flags.s ? '(?s:.)' : `[^${LINE_TERMINATORS}]`, single: true };
      case '^': this.i++; if (flags.m) this.refuse('^ in MULTILINE mode (?m)'); return { k: 'anchor', re2: '\\A' };
      case '$': this.i++; if (flags.m) this.refuse('$ in MULTILINE mode (?m)'); return { k: 'end', at: start };
      case '\\': return this.parseEscape(flags);
      case '*': case '+': case '?': return invalid(`dangling meta character '${c}' at index ${start}`);
      case '{':
        // Pattern.atom() stops at '{' with nothing read: an empty atom, which the counted quantifier repeats.
        if (/^\{\d+(,\d*)?\}/.test(this.p.slice(this.i))) return { k: 'atom', re2: '(?:)', single: false };
        return invalid(`illegal repetition at index ${start}`);
      default: {
        const cp = this.cp();
        return this.char(cp, flags);
      }
    }
  }

  char(cp: number, flags: Flags): Node {
    if (flags.i && (isLower(cp) || isUpper(cp))) {
      const other = isLower(cp) ? cp - 32 : cp + 32;
      return { k: 'atom', re2: `[${lit(cp)}${lit(other)}]`, single: true, cp, ci: true };
    }
    return { k: 'atom', re2: lit(cp), single: true, cp };
  }

  parseGroup(flags: Flags, depth: number): Node | null {
    const start = this.i;
    if (depth > 100) this.refuse('groups nested more than 100 deep');
    this.i++;
    const inner = { ...flags };
    if (this.peek() === '?') {
      const rest = this.p.slice(this.i + 1);
      const look = /^(=|!|<=|<!|>)/.exec(rest);
      const named = /^<([a-zA-Z][a-zA-Z0-9]*)>/.exec(rest);
      if (look) {
        const what: Record<string, string> = { '=': 'the lookahead (?=...)', '!': 'the negative lookahead (?!...)', '<=': 'the lookbehind (?<=...)', '<!': 'the negative lookbehind (?<!...)', '>': 'the atomic group (?>...)' };
        this.refuse(`${what[look[1]]} at index ${start}`);
        this.i += 1 + look[1].length;
      } else if (named) { this.i += 1 + named[0].length; this.groups++; }
      else if (rest.startsWith(':')) this.i += 2;
      else {
        const m = /^([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest);
        if (!m) return invalid(`unknown inline modifier at index ${start}`);
        const set = m[1]; const unset = m[2] ?? '';
        for (const f of set + unset) {
          const refused: Record<string, string> = { d: 'the UNIX_LINES flag (?d)', x: 'the COMMENTS flag (?x)', U: 'the UNICODE_CHARACTER_CLASS flag (?U)' };
          if (refused[f]) this.refuse(refused[f]);
          else if (!'imsu'.includes(f)) invalid(`unknown inline modifier ${f} at index ${start}`);
        }
        const target = m[3] === ')' ? flags : inner;
        for (const f of set) target[f as keyof Flags] = true;
        for (const f of unset) target[f as keyof Flags] = false;
        if (target.i && target.u) this.refuse('case-insensitive matching with UNICODE_CASE (?iu)');
        this.i += 1 + m[0].length;
        if (m[3] === ')') return null;
      }
    } else this.groups++;
    const body = this.parseAlt(inner, depth + 1);
    if (this.peek() !== ')') invalid(`unclosed group at index ${start}`);
    this.i++;
    return { k: 'group', body };
  }

  /** A code point written as an escape (after the backslash), or null when the escape is not one. */
  escapedCp(): number | null {
    const c = this.peek();
    const rest = this.p.slice(this.i + 1);
    const simple: Record<string, number> = { t: 9, n: 10, r: 13, f: 12, a: 7, e: 27 };
    if (c in simple) { this.i++; return simple[c]; }
    if (c === '0') {
      const m = /^([0-3][0-7]{2}|[0-7]{1,2})/.exec(rest);
      if (!m) invalid(`illegal octal escape sequence at index ${this.i}`);
      this.i += 1 + (m as RegExpExecArray)[0].length;
      return parseInt((m as RegExpExecArray)[0], 8);
    }
    if (c === 'x') {
      const m = /^(?:([0-9a-fA-F]{2})|\{([0-9a-fA-F]+)\})/.exec(rest);
      if (!m) invalid(`illegal hexadecimal escape sequence at index ${this.i}`);
      const v = parseInt((m as RegExpExecArray)[1] ?? (m as RegExpExecArray)[2], 16);
      if (v > 0x10ffff) invalid('hexadecimal codepoint is too big');
      this.i += 1 + (m as RegExpExecArray)[0].length;
      return v;
    }
    if (c === 'u') {
      const m = /^[0-9a-fA-F]{4}/.exec(rest);
      if (!m) invalid(`illegal Unicode escape sequence at index ${this.i}`);
      this.i += 5;
      let v = parseInt((m as RegExpExecArray)[0], 16);
      const low = /^\\u([dD][c-fC-F][0-9a-fA-F]{2})/.exec(this.p.slice(this.i));
      if (v >= 0xd800 && v <= 0xdbff && low) {
        v = 0x10000 + ((v - 0xd800) << 10) + (parseInt(low[1], 16) - 0xdc00);
        this.i += 6;
      }
      return v;
    }
    if (c === 'c') {
      if (this.i + 1 >= this.p.length) invalid('illegal control escape sequence');
      this.i++;
      return this.cp() ^ 64;
    }
    if (!/[a-zA-Z0-9]/.test(c) && c !== '') return this.cp();
    return null;
  }

  /** \p{...} / \P{...} / \pL as RE2 class content ("\pL", "[:alpha:]"), negated when asked. */
  property(flags: Flags): { inner: string; outer: string } {
    const neg = this.peek() === 'P';
    this.i++;
    let name: string;
    if (this.peek() === '{') {
      const end = this.p.indexOf('}', this.i);
      if (end < 0) invalid('unclosed character family');
      name = this.p.slice(this.i + 1, end);
      this.i = end + 1;
    } else {
      if (this.done) invalid('illegal character family escape');
      name = String.fromCodePoint(this.cp());
    }
    const what = `\\${neg ? 'P' : 'p'}{${name}}`;
    let cls: string | undefined;
    if (POSIX[name]) {
      if (flags.i && CASED.has(name)) this.refuse(`${what} with case-insensitive matching`);
      return { inner: `[:${neg ? '^' : ''}${POSIX[name]}:]`, outer: `[[:${neg ? '^' : ''}${POSIX[name]}:]]` };
    }
    const cat = /^(?:Is|gc=|general_category=)?(.+)$/.exec(name)?.[1] ?? name;
    if (CATEGORIES.has(cat)) {
      if (flags.i && CASED.has(cat)) this.refuse(`${what} with case-insensitive matching`);
      cls = cat;
    } else {
      const script = /^(?:Is|sc=|script=)(.+)$/.exec(name)?.[1];
      if (script && /^[A-Z][a-z]+(?:_[A-Z][a-z]+)*$/.test(script)) {
        try { RE2JS.compile(`\\p{${script}}`); cls = script; } catch { /* refused below */ }
      }
    }
    if (!cls) {
      this.refuse(`the character property ${what}`);
      cls = 'L';
    }
    return { inner: `\\${neg ? 'P' : 'p'}{${cls}}`, outer: `\\${neg ? 'P' : 'p'}{${cls}}` };
  }

  parseEscape(flags: Flags): Node {
    const start = this.i;
    this.i++;
    const c = this.peek();
    const sets: Record<string, string> = {
      d: '\\d', D: '\\D', w: '\\w', W: '\\W', s: '[[:space:]]', S: '[^[:space:]]',
      h: '[ \\t\\x{A0}\\x{1680}\\x{180E}\\x{2000}-\\x{200A}\\x{202F}\\x{205F}\\x{3000}]',
      H: '[^ \\t\\x{A0}\\x{1680}\\x{180E}\\x{2000}-\\x{200A}\\x{202F}\\x{205F}\\x{3000}]',
      v: '[\\n\\x{B}\\f\\r\\x{85}\\x{2028}\\x{2029}]', V: '[^\\n\\x{B}\\f\\r\\x{85}\\x{2028}\\x{2029}]',
    };
    if (c in sets) { this.i++; return { k: 'atom', re2: sets[c], single: true }; }
    if (c === 'p' || c === 'P') return { k: 'atom', re2: this.property(flags).outer, single: true };
    if (/[1-9]/.test(c)) {
      while (/[0-9]/.test(this.peek())) this.i++;
      return this.refuse(`the backreference \\${c} at index ${start}`);
    }
    switch (c) {
      case 'b': case 'B': this.i++; return this.refuse(`the word boundary \\${c} (Java counts non-ASCII letters as word characters)`);
      case 'k':
        if (!/^k<[a-zA-Z][a-zA-Z0-9]*>/.test(this.p.slice(this.i))) return invalid(`\\k is not followed by a group name at index ${start}`);
        this.i = this.p.indexOf('>', this.i) + 1;
        return this.refuse(`the named backreference \\k<...> at index ${start}`);
      case 'X': this.i++; return this.refuse('the grapheme cluster \\X');
      case 'N': {
        const close = this.p.indexOf('}', this.i);
        if (this.peek(1) !== '{' || close < 0) return invalid(`illegal \\N at index ${start}`);
        this.i = close + 1;
        return this.refuse('the named character \\N{...}');
      }
      case 'A': case 'G': this.i++; return { k: 'anchor', re2: '\\A' };
      case 'z': this.i++; return { k: 'jz' };
      case 'Z': this.i++; return { k: 'end', at: start };
      // Java's \R is atomic: it never gives back the \n of \r\n (checked where it stands, in checkEnds).
      case 'R': this.i++; return { k: 'atom', re2: '(?:\\r\\n|[\\n\\x{B}\\f\\r\\x{85}\\x{2028}\\x{2029}])', single: false, lineBreak: true };
      default: {
        const cp = this.escapedCp();
        if (cp === null) return invalid(`illegal/unsupported escape sequence \\${c} at index ${start}`);
        return this.char(cp, flags);
      }
    }
  }

  parseClass(flags: Flags): Node {
    const start = this.i;
    this.i++;
    let neg = false;
    if (this.peek() === '^') { neg = true; this.i++; }
    const ranges: Array<[number, number]> = [];
    const sets: string[] = [];
    let first = true;
    const single = (): number | 'set' => {
      const c = this.peek();
      if (c === '\\') {
        this.i++;
        const e = this.peek();
        const inner: Record<string, string> = { d: '\\d', D: '\\D', w: '\\w', W: '\\W', s: '[:space:]', S: '[:^space:]',
          h: ' \\t\\x{A0}\\x{1680}\\x{180E}\\x{2000}-\\x{200A}\\x{202F}\\x{205F}\\x{3000}', v: '\\n\\x{B}\\f\\r\\x{85}\\x{2028}\\x{2029}' };
        if (e in inner) { this.i++; sets.push(inner[e]); return 'set'; }
        if (e === 'H' || e === 'V') { this.i++; this.refuse(`\\${e} inside a character class`); return 'set'; }
        if (e === 'p' || e === 'P') { sets.push(this.property(flags).inner); return 'set'; }
        if (/[1-9]/.test(e)) return invalid(`illegal escape \\${e} in a character class`);
        const cp = this.escapedCp();
        if (cp === null) return invalid(`illegal/unsupported escape sequence \\${e} in a character class at index ${this.i}`);
        return cp;
      }
      return this.cp();
    };
    for (;;) {
      if (this.done) invalid(`unclosed character class at index ${start}`);
      const c = this.peek();
      if (c === ']' && !first) { this.i++; break; }
      if (c === '[') {
        this.refuse(`the nested character class at index ${this.i} (a union in Java)`);
        this.parseClass(flags);
        first = false;
        continue;
      }
      if (c === '&' && this.peek(1) === '&') {
        this.refuse(`the class intersection && at index ${this.i}`);
        this.i += 2;
        first = false;
        continue;
      }
      first = false;
      const lo = single();
      if (lo === 'set') {
        if (this.peek() === '-' && this.peek(1) !== ']') this.refuse(`the '-' after a class escape at index ${this.i} (write \\-)`);
        continue;
      }
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== '') {
        this.i++;
        if (this.peek() === '[') {
          this.refuse(`the nested character class at index ${this.i} (a union in Java)`);
          this.parseClass(flags);
          continue;
        }
        const hi = single();
        if (hi === 'set') {
          this.refuse(`a range ending in a class escape at index ${this.i}`);
          continue;
        }
        if (hi < lo) invalid(`illegal character range at index ${this.i}`);
        if (this.peek() === '-' && this.peek(1) !== ']') this.refuse(`the '-' after a range at index ${this.i} (write \\-)`);
        ranges.push([lo, hi]);
      } else ranges.push([lo, lo]);
    }
    if (flags.i) for (const [lo, hi] of [...ranges]) ranges.push(...foldRange(lo, hi));
    const body = ranges.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join('') + sets.join('');
    return { k: 'atom', re2: `[${neg ? '^' : ''}${body}]`, single: true };
  }
}

/** Checks where $ and possessive quantifiers stand: only where nothing can follow them. */
function checkEnds(node: Node, final: boolean): void {
  switch (node.k) {
    case 'seq':
      node.items.forEach((item, j) => {
        const last = j === node.items.length - 1;
        if (item.k === 'rep' && item.body.k === 'atom' && item.body.lineBreak) refuse('a quantified \\R (Java\'s \\R is atomic: it never splits \\r\\n)');
        if (item.k === 'atom' && item.lineBreak) {
          const next = node.items[j + 1];
          const safe = last ? final : next?.k === 'atom' && next.single && !RE2JS.compile(next.re2).testExact('\n');
          if (!safe) refuse('\\R before something that can match \\n (Java\'s \\R is atomic: it never splits \\r\\n)');
        }
        if (item.k === 'rep' && item.possessive) {
          const next = node.items[j + 1];
          const body = item.body.k === 'atom' && item.body.single ? RE2JS.compile(item.body.re2) : undefined;
          // Before nothing but $ / \z: giving characters back cannot help when none of them is a line terminator.
          const onlyEnds = final && node.items.slice(j + 1).every((n) => n.k === 'end' || n.k === 'jz')
            && !['\n', '\r', '\u0085', '\u2028', '\u2029'].some((t) => body?.testExact(t));
          const disjoint = body !== undefined && (last ? final : onlyEnds || (next?.k === 'atom' && next.cp !== undefined && !next.ci
            && !body.testExact(String.fromCodePoint(next.cp))));
          if (!disjoint) refuse(`the possessive quantifier at index ${item.at} (only where it cannot change the result: on one character, before the end or before a character it cannot match)`);
        }
        checkEnds(item, final && last);
      });
      return;
    case 'alt': node.alts.forEach((a) => checkEnds(a, final)); return;
    case 'group': checkEnds(node.body, final); return;
    case 'rep': checkEnds(node.body, final && node.max <= 1); return;
    case 'end': if (!final) refuse(`$ or \\Z at index ${node.at} before the end of the pattern`); return;
    default: return;
  }
}

function emit(node: Node, variant: 'full' | 'stripped'): string {
  switch (node.k) {
    case 'seq': return node.items.map((n) => emit(n, variant)).join('');
    case 'alt': return node.alts.map((n) => emit(n, variant)).join('|');
    case 'group': return `(?:${emit(node.body, variant)})`;
    case 'rep': {
      const q = node.min === 0 && node.max === Infinity ? '*' : node.min === 1 && node.max === Infinity ? '+' : node.min === 0 && node.max === 1 ? '?'
        : node.max === Infinity ? `{${node.min},}` : node.min === node.max ? `{${node.min}}` : `{${node.min},${node.max}}`;
      return `(?:${emit(node.body, variant)})${q}${node.lazy ? '?' : ''}`;
    }
    case 'atom': return node.re2;
    case 'anchor': return node.re2;
    case 'end': return '\\z';
    case 'jz': return variant === 'full' ? '\\z' : NEVER;
  }
}

function hasEnd(node: Node): boolean {
  switch (node.k) {
    case 'seq': return node.items.some(hasEnd);
    case 'alt': return node.alts.some(hasEnd);
    case 'group': return hasEnd(node.body);
    case 'rep': return hasEnd(node.body);
    case 'end': return true;
    default: return false;
  }
}

/** The one final line terminator Java's $ may stand before (Pattern.Dollar, non-multiline). */
const FINAL_TERMINATOR = /(?:\r\n|[\n\r\u0085\u2028\u2029])$/;

export interface JavaRegex {
  readonly source: string;
  /** RE2 program size: the cost of a match is about text length × this. */
  readonly programSize: number;
  /** Matcher.find(): found anywhere. */
  find(text: string): boolean;
  /** Matcher.matches(): the whole text. */
  matches(text: string): boolean;
}

/**
 * Pattern.RemoveQEQuoting: \Q...\E becomes escaped characters before the pattern is parsed, so a
 * quantifier after it applies to its last character, and it works inside classes too.
 */
export function removeQEQuoting(p: string): string {
  let i = 0;
  while (i < p.length - 1) {
    if (p[i] !== '\\') i += 1;
    else if (p[i + 1] !== 'Q') i += 2;
    else break;
  }
  if (i >= p.length - 1) return p;
  let out = p.slice(0, i);
  i += 2;
  let inQuote = true;
  let beginQuote = true;
  while (i < p.length) {
    const c = p[i++];
    const code = c.charCodeAt(0);
    if (code >= 128 || /[A-Za-z]/.test(c)) out += c;
    else if (/[0-9]/.test(c)) out += inQuote && beginQuote ? `\\x3${c}` : c;
    else if (c !== '\\') out += inQuote ? `\\${c}` : c;
    else if (inQuote) {
      if (p[i] === 'E') { i++; inQuote = false; } else out += '\\\\';
    } else if (p[i] === 'Q') { i++; inQuote = true; beginQuote = true; continue; }
    else { out += c; if (i < p.length) out += p[i++]; }
    beginQuote = false;
  }
  return out;
}

/** Translates and compiles a Java pattern; throws RegexError naming the construct it cannot take. */
export function compileJavaRegex(source: string, mode: 'find' | 'matches' = 'find'): JavaRegex {
  const parser = new Parser(removeQEQuoting(source));
  const tree = parser.parseAlt({ i: false, s: false, m: false, u: false }, 0);
  if (!parser.done) invalid(`unmatched closing ')' at index ${parser.i}`);
  if (parser.refusals.length) refuse(parser.refusals[0]);
  checkEnds(tree, true);
  const compile = (re: string): RE2JS => {
    try { return RE2JS.compile(re); } catch (err) {
      return refuse(`this pattern (RE2: ${(err as Error).message})`);
    }
  };
  const body = emit(tree, 'full');
  const full = compile(mode === 'matches' ? `\\A(?:${body})\\z` : body);
  // For find(): a final $ also holds before one final line terminator: try the text without it.
  const stripped = mode === 'find' && hasEnd(tree) ? compile(emit(tree, 'stripped')) : undefined;
  return {
    source,
    programSize: full.programSize() + (stripped?.programSize() ?? 0),
    find(text: string): boolean {
      if (full.test(text)) return true;
      if (!stripped) return false;
      const m = FINAL_TERMINATOR.exec(text);
      // Between \r and \n is not a place Java's $ holds: "\r\n" goes as one.
      return m !== null && stripped.test(text.slice(0, text.length - m[0].length));
    },
    matches(text: string): boolean {
      return full.test(text);
    },
  };
}
