/**
 * The JSONPath of the JMS Messaging plugin's msgChecks: Jayway JsonPath 2.x with its default
 * configuration (no options). Only the part of Jayway's language CVP can evaluate exactly is
 * accepted; anything else is refused when the path is compiled, naming the construct, so a check
 * never gets a verdict the plugin would not give. References are to json-path 2.9.0
 * (com.jayway.jsonpath.internal.path.*, internal.filter.*).
 */
import { bigDecimalText, isJavaList, isJavaMap, JavaNumber, type JavaValue } from './java-json';
import { compileJavaRegex, RegexError, type JavaRegex } from './java-regex';

export class PathError extends Error {
  /** true: Jayway parses it, but CVP does not evaluate it; false: Jayway itself refuses it. */
  constructor(message: string, readonly unsupported: boolean) {
    super(message);
    this.name = 'PathError';
  }
}

/** Jayway's PathNotFoundException / InvalidPathException raised while reading: the check fails. */
export class PathNotFound extends Error {}

const invalid = (m: string): never => { throw new PathError(m, false); };
const unsupported = (m: string): never => { throw new PathError(m, true); };

type Token =
  | { kind: 'prop'; name: string }
  | { kind: 'index'; indexes: number[] }
  | { kind: 'slice'; op: 'from' | 'to' | 'between'; from: number; to: number }
  | { kind: 'wildcard' }
  | { kind: 'scan' }
  | { kind: 'filter'; expr: Expr };

type Operand =
  | { t: 'path'; path: JaywayPath }
  | { t: 'str'; s: string }
  | { t: 'num'; text: string }
  | { t: 'bool'; b: boolean }
  | { t: 'null' }
  | { t: 'pattern'; re: JavaRegex };

type Expr =
  | { t: 'or' | 'and'; ops: Expr[] }
  | { t: 'not'; op: Expr }
  | { t: 'exists'; path: JaywayPath; shouldExist: boolean }
  | { t: 'rel'; op: string; left: Operand; right: Operand };

const definiteToken = (t: Token): boolean => t.kind === 'prop' || (t.kind === 'index' && t.indexes.length === 1);
const INT_MAX = 2 ** 31 - 1;

function parseIndex(text: string): number {
  if (!/^-?\d+$/.test(text)) invalid(`array index "${text}" is not a number`);
  const n = Number(text);
  if (Math.abs(n) > INT_MAX) invalid(`array index ${text} is out of Java's int range`);
  return n;
}

/** A compiled path: tokens after the root ($ or @). */
export class JaywayPath {
  readonly definite: boolean;

  constructor(readonly text: string, readonly root: '$' | '@', private readonly tokens: Token[]) {
    this.definite = tokens.every(definiteToken);
  }

  /** What Jayway's read returns: the value for a definite path, the list of hits otherwise. Throws PathNotFound. */
  read(doc: JavaValue, current: JavaValue = doc): JavaValue {
    const hits: JavaValue[] = [];
    this.walk(0, this.root === '$' ? doc : current, doc, hits);
    if (!this.definite) return hits;
    // EvaluationContextImpl.getValue: a definite path without a result is a PathNotFoundException.
    if (!hits.length) throw new PathNotFound(`No results for path: ${this.text}`);
    return hits[hits.length - 1];
  }

  private upstreamDefinite(i: number): boolean {
    for (let k = 0; k < i; k++) if (!definiteToken(this.tokens[k])) return false;
    return true;
  }

  private next(i: number, model: JavaValue, doc: JavaValue, hits: JavaValue[]): void {
    if (i === this.tokens.length - 1) hits.push(model);
    else this.walk(i + 1, model, doc, hits);
  }

  private walk(i: number, model: JavaValue, doc: JavaValue, hits: JavaValue[]): void {
    if (i >= this.tokens.length) { hits.push(model); return; }
    const token = this.tokens[i];
    const leaf = i === this.tokens.length - 1;
    switch (token.kind) {
      case 'prop': {
        // PropertyPathToken.evaluate + PathToken.handleObjectProperty
        if (!isJavaMap(model)) {
          if (!this.upstreamDefinite(i)) return;
          throw new PathNotFound(`Expected to find an object with property ['${token.name}'] in path ${this.text}`);
        }
        if (!model.has(token.name)) {
          if (leaf || !this.upstreamDefinite(i)) return;
          throw new PathNotFound(`Missing property in path ${this.text}`);
        }
        this.next(i, model.get(token.name) as JavaValue, doc, hits);
        return;
      }
      case 'index':
      case 'slice': {
        // ArrayPathToken.checkArrayModel
        if (!isJavaList(model)) {
          if (!this.upstreamDefinite(i)) return;
          throw new PathNotFound(`Filter can only be applied to arrays (path ${this.text})`);
        }
        for (const idx of token.kind === 'index' ? token.indexes : sliceIndexes(token, model.length)) {
          // PathToken.handleArrayIndex: a negative index counts from the end; out of bounds is no hit.
          const eff = idx < 0 ? model.length + idx : idx;
          if (eff >= 0 && eff < model.length) this.next(i, model[eff], doc, hits);
        }
        return;
      }
      case 'wildcard':
        // WildcardPathToken: every value of a map, every element of a list, nothing of a scalar.
        if (isJavaMap(model)) for (const v of model.values()) this.next(i, v, doc, hits);
        else if (isJavaList(model)) {
          for (const v of model) {
            try { this.next(i, v, doc, hits); } catch (err) { if (!(err instanceof PathNotFound)) throw err; }
          }
        }
        return;
      case 'scan':
        this.scan(i + 1, model, doc, hits);
        return;
      case 'filter':
        // PredicatePathToken.evaluate
        if (isJavaMap(model)) {
          if (accepts(token.expr, model, doc)) this.next(i, model, doc, hits);
        } else if (isJavaList(model)) {
          for (const item of model) if (accepts(token.expr, item, doc)) this.next(i, item, doc, hits);
        } else if (this.upstreamDefinite(i)) {
          throw new PathNotFound(`Filter can not be applied to primitives (path ${this.text})`);
        }
        return;
    }
  }

  /** ScanPathToken.walk for a leaf property or wildcard after "..", in document order. */
  private scan(target: number, model: JavaValue, doc: JavaValue, hits: JavaValue[]): void {
    const token = this.tokens[target];
    if (isJavaMap(model)) {
      if (token.kind === 'wildcard' || (token.kind === 'prop' && model.has(token.name))) this.walk(target, model, doc, hits);
      for (const v of model.values()) this.scan(target, v, doc, hits);
    } else if (isJavaList(model)) {
      if (token.kind === 'wildcard') this.walk(target, model, doc, hits);
      for (const v of model) this.scan(target, v, doc, hits);
    }
  }
}

function sliceIndexes(t: { op: 'from' | 'to' | 'between'; from: number; to: number }, length: number): number[] {
  // ArraySliceToken.sliceFrom / sliceBetween / sliceTo, including their treatment of negative bounds.
  const out: number[] = [];
  if (t.op === 'from') {
    let from = t.from < 0 ? length + t.from : t.from;
    from = Math.max(0, from);
    for (let i = from; i < length; i++) out.push(i);
  } else if (t.op === 'between') {
    const to = Math.min(length, t.to);
    if (t.from >= to || length === 0) return out;
    for (let i = t.from; i < to; i++) out.push(i);
  } else {
    if (length === 0) return out;
    let to = t.to < 0 ? length + t.to : t.to;
    to = Math.min(length, to);
    for (let i = 0; i < to; i++) out.push(i);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Filters: ValueNodes + EvaluatorFactory semantics for the operators CVP accepts.

type Node =
  | { t: 'str'; s: string }
  | { t: 'num'; text: string }
  | { t: 'bool'; b: boolean }
  | { t: 'null' }
  | { t: 'undef' }
  | { t: 'json'; v: JavaValue }
  | { t: 'pattern'; re: JavaRegex };

function evalOperand(op: Operand, item: JavaValue, doc: JavaValue): Node {
  if (op.t !== 'path') return op;
  // ValueNodes.PathNode.evaluate: a path that is not found is UNDEFINED.
  let res: JavaValue;
  try { res = op.path.read(doc, item); } catch (err) {
    if (err instanceof PathNotFound) return { t: 'undef' };
    throw err;
  }
  if (res instanceof JavaNumber) return { t: 'num', text: res.text };
  if (typeof res === 'string') return { t: 'str', s: res };
  if (typeof res === 'boolean') return { t: 'bool', b: res };
  if (res === null) return { t: 'null' };
  return { t: 'json', v: res };
}

const DECIMAL = /^([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?$/;

/** new BigDecimal(text) as digits and exponent (value = digits × 10^exp), or null (NumberFormatException). */
function decimal(text: string): { neg: boolean; digits: string; exp: number } | null {
  const m = DECIMAL.exec(text);
  if (!m) return null;
  const int = m[2] ?? '';
  const frac = m[3] ?? m[4] ?? '';
  const digits = (int + frac).replace(/^0+/, '');
  return { neg: m[1] === '-' && digits !== '', digits, exp: Number(m[5] ?? 0) - frac.length };
}

/** BigDecimal.compareTo: by value, scale ignored (1 == 1.0). */
function compareDecimal(a: string, b: string): number | null {
  const x = decimal(a);
  const y = decimal(b);
  if (!x || !y) return null;
  const sx = x.digits === '' ? 0 : x.neg ? -1 : 1;
  const sy = y.digits === '' ? 0 : y.neg ? -1 : 1;
  if (sx !== sy) return sx < sy ? -1 : 1;
  if (sx === 0) return 0;
  // Compare magnitudes: align to the same exponent.
  const e = Math.min(x.exp, y.exp);
  const mx = BigInt(x.digits + '0'.repeat(x.exp - e));
  const my = BigInt(y.digits + '0'.repeat(y.exp - e));
  const c = mx === my ? 0 : mx < my ? -1 : 1;
  return sx < 0 ? -c : c;
}

/** BigDecimal(text).toString(), for StringNode comparisons with a NumberNode. */
function decimalText(text: string): string {
  const m = DECIMAL.exec(text);
  if (!m) return text;
  const int = m[2] ?? '0';
  const frac = m[3] ?? m[4] ?? '';
  const sign = m[1] === '-' ? '-' : '';
  // Reuse the BigDecimal printer through a normalised lexeme.
  return bigDecimalText(`${sign}${int}${frac ? `.${frac}` : ''}${m[5] ? `E${m[5]}` : ''}`);
}


/** Java's equals between the List/Map objects json-smart made (Integer 1 is not Long 1 nor Double 1.0). */
function javaEquals(a: JavaValue, b: JavaValue): boolean {
  if (a === null || b === null) return a === b;
  if (a instanceof JavaNumber || b instanceof JavaNumber) {
    if (!(a instanceof JavaNumber && b instanceof JavaNumber) || a.kind !== b.kind) return false;
    return a.kind === 'Double' ? Object.is(Number(a.text), Number(b.text)) : a.text === b.text;
  }
  if (isJavaList(a) || isJavaList(b)) {
    return isJavaList(a) && isJavaList(b) && a.length === b.length && a.every((x, i) => javaEquals(x, b[i]));
  }
  if (isJavaMap(a) || isJavaMap(b)) {
    if (!(isJavaMap(a) && isJavaMap(b)) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !javaEquals(v, b.get(k) as JavaValue)) return false;
    return true;
  }
  return a === b;
}

function nodeEquals(l: Node, r: Node): boolean {
  // EqualsEvaluator: two JSON nodes compare their objects; otherwise left.equals(right).
  if (l.t === 'json' && r.t === 'json') return javaEquals(l.v, r.v);
  switch (l.t) {
    case 'str':
      if (r.t === 'str') return l.s === r.s;
      if (r.t === 'num') return l.s === decimalText(r.text);
      return false;
    case 'num':
      if (r.t === 'num') return compareDecimal(l.text, r.text) === 0;
      if (r.t === 'str') return compareDecimal(l.text, r.s) === 0;
      return false;
    case 'bool': return r.t === 'bool' && l.b === r.b;
    case 'null': return r.t === 'null';
    default: return false;
  }
}

function regexInput(n: Node): string {
  if (n.t === 'str') return n.s;
  if (n.t === 'num') return decimalText(n.text);
  if (n.t === 'bool') return String(n.b);
  return '';
}

function relation(op: string, l: Node, r: Node): boolean {
  switch (op) {
    case '==': return nodeEquals(l, r);
    case '!=': return !nodeEquals(l, r);
    case '<': case '<=': case '>': case '>=': {
      let c: number | null = null;
      if (l.t === 'num' && r.t === 'num') c = compareDecimal(l.text, r.text);
      else if (l.t === 'str' && r.t === 'str') c = l.s === r.s ? 0 : l.s < r.s ? -1 : 1;
      if (c === null) return false;
      return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
    }
    case '=~': {
      // RegexpEvaluator: exactly one side is a pattern; matches() against the whole text; a list: any element.
      if ((l.t === 'pattern') === (r.t === 'pattern')) return false;
      const [p, v] = l.t === 'pattern' ? [l, r] : [r as Node & { t: 'pattern' }, l];
      if (v.t === 'json' && isJavaList(v.v)) {
        return v.v.some((e) => p.re.matches(regexInput(evalOperandValue(e))));
      }
      return p.re.matches(regexInput(v));
    }
    default: return false;
  }
}

function evalOperandValue(e: JavaValue): Node {
  if (e instanceof JavaNumber) return { t: 'num', text: e.text };
  // ValueNode.toValueNode(String) strips one pair of surrounding quotes.
  if (typeof e === 'string') return { t: 'str', s: e.length > 1 && (e[0] === "'" || e[0] === '"') && e[e.length - 1] === e[0] ? e.slice(1, -1) : e };
  if (typeof e === 'boolean') return { t: 'bool', b: e };
  if (e === null) return { t: 'null' };
  return { t: 'json', v: e };
}

function accepts(expr: Expr, item: JavaValue, doc: JavaValue): boolean {
  switch (expr.t) {
    case 'or': return expr.ops.some((e) => accepts(e, item, doc));
    case 'and': return expr.ops.every((e) => accepts(e, item, doc));
    case 'not': return !accepts(expr.op, item, doc);
    case 'exists': {
      // PathNode exists check (REQUIRE_PROPERTIES): a property present with null counts as existing.
      let found: boolean;
      try {
        const v = expr.path.read(doc, item);
        found = !(expr.path.definite === false && isJavaList(v) && v.length === 0);
      } catch (err) {
        if (!(err instanceof PathNotFound)) throw err;
        found = false;
      }
      return found === expr.shouldExist;
    }
    case 'rel': return relation(expr.op, evalOperand(expr.left, item, doc), evalOperand(expr.right, item, doc));
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing (PathCompiler, FilterCompiler).

class Cursor {
  i = 0;
  constructor(readonly s: string) {}
  ch(): string { return this.s[this.i] ?? ''; }
  get done(): boolean { return this.i >= this.s.length; }
}

function parseTokens(cur: Cursor, inFilter: boolean): Token[] {
  const tokens: Token[] = [];
  const s = cur.s;
  while (!cur.done) {
    if (inFilter && /[\s<>=~!)]/.test(cur.ch())) break;
    if (cur.ch() === '.') {
      if (s[cur.i + 1] === '.') {
        tokens.push({ kind: 'scan' });
        cur.i += 2;
      } else {
        cur.i++;
      }
      if (cur.done) invalid('Path must not end with a \'.\' or \'..\'');
      if (cur.ch() === '.') invalid(`Character '.' on position ${cur.i} is not valid`);
      if (cur.ch() === '[') continue;
      if (cur.ch() === '*') { tokens.push({ kind: 'wildcard' }); cur.i++; continue; }
      if (cur.ch() === ' ') invalid(`Could not parse token starting at position ${cur.i}`);
      const start = cur.i;
      while (!cur.done && cur.ch() !== '.' && cur.ch() !== '[' && cur.ch() !== '(') {
        if (cur.ch() === ' ') {
          if (inFilter) break;
          invalid(`Use bracket notion ['my prop'] if your property contains blank characters. position: ${cur.i}`);
        }
        if (inFilter && /[<>=~!)]/.test(cur.ch())) break;
        cur.i++;
      }
      if (cur.ch() === '(') unsupported(`function ${s.slice(start, cur.i)}() (CVP evaluates no path functions)`);
      tokens.push({ kind: 'prop', name: s.slice(start, cur.i) });
      continue;
    }
    if (cur.ch() === '[') {
      const close = s.indexOf(']', cur.i);
      const inner = close < 0 ? '' : s.slice(cur.i + 1, close);
      if (s[cur.i + 1] === '?') {
        tokens.push({ kind: 'filter', expr: parseFilter(cur) });
        continue;
      }
      if (close < 0) invalid(`Could not parse token starting at position ${cur.i}`);
      if (inner === '*') tokens.push({ kind: 'wildcard' });
      else if (/^'[^'\\]*'$|^"[^"\\]*"$/.test(inner)) tokens.push({ kind: 'prop', name: inner.slice(1, -1) });
      else if (/^\s*['"]/.test(inner)) {
        unsupported(`bracket property [${inner}] (CVP takes one quoted name without spaces around it or backslashes)`);
      } else if (/^-?\d+(,-?\d+)*$/.test(inner)) tokens.push({ kind: 'index', indexes: inner.split(',').map(parseIndex) });
      else if (/^(-?\d+)?:(-?\d+)?$/.test(inner) && inner !== ':') {
        const [a, b] = inner.split(':');
        if (a && b) tokens.push({ kind: 'slice', op: 'between', from: parseIndex(a), to: parseIndex(b) });
        else if (a) tokens.push({ kind: 'slice', op: 'from', from: parseIndex(a), to: 0 });
        else tokens.push({ kind: 'slice', op: 'to', from: 0, to: parseIndex(b) });
      } else if (/^[\d\s,:-]*$/.test(inner)) unsupported(`array operation [${inner}] (write it without spaces)`);
      else invalid(`Could not parse token [${inner}]: expected ?, ', 0-9, *`);
      cur.i = close + 1;
      continue;
    }
    invalid(`Illegal character at position ${cur.i}: expected '.' or '['`);
  }
  tokens.forEach((t, k) => {
    if (t.kind !== 'scan') return;
    const after = tokens[k + 1];
    if (!after || k + 1 !== tokens.length - 1 || (after.kind !== 'prop' && after.kind !== 'wildcard')) {
      unsupported('deep scan ".." other than at the end of the path before one name or * (e.g. $..issuer)');
    }
  });
  return tokens;
}

/** Compiles a path as Jayway's PathCompiler.compile would read it (after the plugin's "$." prefix rule). */
export function compilePath(text: string): JaywayPath {
  const trimmed = text.trim();
  if (!trimmed) invalid('path is empty');
  if (trimmed.endsWith('.')) invalid('Path must not end with a \'.\' or \'..\'');
  const root = trimmed[0];
  if (root !== '$' && root !== '@') return compilePath(`$.${trimmed}`);
  const cur = new Cursor(trimmed);
  cur.i = 1;
  if (!cur.done && cur.ch() !== '.' && cur.ch() !== '[') invalid(`Illegal character at position 1 expected '.' or '['`);
  return new JaywayPath(trimmed, root, parseTokens(cur, false));
}

function parseFilter(cur: Cursor): Expr {
  // "[?(" ... ")]"
  const s = cur.s;
  if (!s.startsWith('[?(', cur.i)) unsupported(`filter at position ${cur.i} (CVP takes [?(expression)])`);
  cur.i += 3;
  const expr = parseOr(cur);
  ws(cur);
  if (!s.startsWith(')]', cur.i)) invalid(`Expected end of filter expression at position ${cur.i}`);
  cur.i += 2;
  return expr;
}

function ws(cur: Cursor): void { while (cur.ch() === ' ') cur.i++; }

function parseOr(cur: Cursor): Expr {
  const ops = [parseAnd(cur)];
  for (;;) {
    ws(cur);
    if (cur.s.startsWith('||', cur.i)) { cur.i += 2; ops.push(parseAnd(cur)); } else break;
  }
  return ops.length === 1 ? ops[0] : { t: 'or', ops };
}

function parseAnd(cur: Cursor): Expr {
  const ops = [parseOperand(cur)];
  for (;;) {
    ws(cur);
    if (cur.s.startsWith('&&', cur.i)) { cur.i += 2; ops.push(parseOperand(cur)); } else break;
  }
  return ops.length === 1 ? ops[0] : { t: 'and', ops };
}

function parseOperand(cur: Cursor): Expr {
  ws(cur);
  if (cur.ch() === '!') {
    const save = cur.i;
    cur.i++;
    ws(cur);
    if (cur.ch() !== '@' && cur.ch() !== '$') return { t: 'not', op: parseOperand(cur) };
    cur.i = save;
  }
  if (cur.ch() === '(') {
    cur.i++;
    const e = parseOr(cur);
    ws(cur);
    if (cur.ch() !== ')') invalid(`expected ) at position ${cur.i}`);
    cur.i++;
    return e;
  }
  const negated = cur.ch() === '!';
  if (negated) { cur.i++; ws(cur); }
  const left = parseValue(cur);
  ws(cur);
  const rest = cur.s.slice(cur.i);
  // FilterCompiler.readRelationalOperator: a run of <>=~! characters, or a word up to the next space.
  const m = /^[<>=~!]+/.exec(rest) ?? (rest && !/^(\)|&&|\|\|)/.test(rest) ? /^[^ ]+/.exec(rest) : null);
  if (m) {
    const op = m[0];
    if (!['==', '!=', '<', '<=', '>', '>=', '=~'].includes(op)) unsupported(`filter operator ${op} (CVP takes ==, !=, <, <=, >, >=, =~)`);
    if (negated) invalid('! before a comparison');
    cur.i += op.length;
    ws(cur);
    const right = parseValue(cur);
    if (op === '=~' && right.t !== 'pattern' && left.t !== 'pattern') unsupported('=~ without a /pattern/');
    if ((left.t === 'pattern' || right.t === 'pattern') && op !== '=~') invalid(`a /pattern/ with ${op}`);
    return { t: 'rel', op, left, right };
  }
  if (left.t !== 'path') return invalid(`expected a comparison after the literal at position ${cur.i}`);
  return { t: 'exists', path: left.path, shouldExist: !negated };
}

function parseValue(cur: Cursor): Operand {
  ws(cur);
  const s = cur.s;
  const c = cur.ch();
  if (c === '@' || c === '$') {
    const start = cur.i;
    cur.i++;
    const tokens = parseTokens(cur, true);
    const path = new JaywayPath(s.slice(start, cur.i), c, tokens);
    if (!path.definite) unsupported(`indefinite path ${path.text} inside a filter`);
    return { t: 'path', path };
  }
  if (c === "'" || c === '"') {
    const end = s.indexOf(c, cur.i + 1);
    if (end < 0) invalid(`unterminated string at position ${cur.i}`);
    const str = s.slice(cur.i + 1, end);
    if (str.includes('\\')) unsupported('a backslash in a filter string');
    cur.i = end + 1;
    return { t: 'str', s: str };
  }
  if (s.startsWith('true', cur.i)) { cur.i += 4; return { t: 'bool', b: true }; }
  if (s.startsWith('false', cur.i)) { cur.i += 5; return { t: 'bool', b: false }; }
  if (s.startsWith('null', cur.i)) { cur.i += 4; return { t: 'null' }; }
  if (c === '/') {
    let i = cur.i + 1;
    while (i < s.length && s[i] !== '/') i += s[i] === '\\' ? 2 : 1;
    if (i >= s.length) invalid('unterminated /pattern/');
    const body = s.slice(cur.i + 1, i);
    let j = i + 1;
    while (/[a-zA-Z]/.test(s[j] ?? '')) j++;
    const flags = s.slice(i + 1, j);
    if (flags && flags !== 'i') unsupported(`pattern flags /${flags} (CVP takes none or i)`);
    cur.i = j;
    try {
      return { t: 'pattern', re: compileJavaRegex(flags ? `(?i)${body}` : body, 'matches') };
    } catch (err) {
      if (!(err instanceof RegexError)) throw err;
      return err.kind === 'invalid' ? invalid(`filter pattern /${body}/ ${err.message}`) : unsupported(`the filter pattern /${body}/: ${err.message}`);
    }
  }
  const num = /^-?(\d+(\.\d+)?([eE][+-]?\d+)?)/.exec(s.slice(cur.i));
  if (num) { cur.i += num[0].length; return { t: 'num', text: num[0] }; }
  if (c === '[' || c === '{') unsupported('a JSON literal in a filter');
  return invalid(`unexpected character '${c}' at position ${cur.i} in a filter`);
}
