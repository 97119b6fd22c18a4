/**
 * An event as the JMS Messaging plugin holds it: Jayway JsonPath's json-smart provider in
 * MODE_PERMISSIVE with ordered maps (json-smart 2.5 JSONParserBase.parseNumber/extractFloat,
 * DefaultMapperOrdered). Numbers keep the Java type json-smart gives them, so that their text is
 * what Java prints; objects keep their keys' order as in the text (a LinkedHashMap), which a JS
 * object does not (integer-like keys come first there).
 */

export type JavaNumberKind = 'Integer' | 'Long' | 'BigInteger' | 'Double' | 'BigDecimal';

export class JavaNumber {
  constructor(readonly kind: JavaNumberKind, readonly text: string) {}
  toString(): string { return this.text; }
}

export type JavaMap = Map<string, JavaValue>;
export type JavaList = JavaValue[];
export type JavaValue = null | string | boolean | JavaNumber | JavaList | JavaMap;

export const isJavaMap = (v: unknown): v is JavaMap => v instanceof Map;
export const isJavaList = (v: unknown): v is JavaList => Array.isArray(v);

const INT_MIN = -2147483648n;
const INT_MAX = 2147483647n;
const LONG_MIN = -9223372036854775808n;
const LONG_MAX = 9223372036854775807n;

/** The Java value json-smart makes of a JSON number's text, and how Java prints it. */
export function javaNumber(lexeme: string): JavaNumber {
  if (!/[.eE]/.test(lexeme)) {
    if (lexeme.length <= 15) {
      // Exact as a double: no BigInt needed.
      const v = Number(lexeme);
      return new JavaNumber(v >= -2147483648 && v <= 2147483647 ? 'Integer' : 'Long', String(v === 0 ? 0 : v));
    }
    const n = BigInt(lexeme);
    if (n >= INT_MIN && n <= INT_MAX) return new JavaNumber('Integer', n.toString());
    if (n >= LONG_MIN && n <= LONG_MAX) return new JavaNumber('Long', n.toString());
    return new JavaNumber('BigInteger', n.toString());
  }
  // MODE_PERMISSIVE sets BIG_DIGIT_UNRESTRICTED: a float text longer than 18 characters is a BigDecimal.
  if (lexeme.length > 18) return new JavaNumber('BigDecimal', bigDecimalText(lexeme));
  return new JavaNumber('Double', javaDoubleText(Number(lexeme)));
}

/** Double.toString: shortest digits that round-trip (as Java 19+ specifies it; older Javas add digits to a few values). */
export function javaDoubleText(d: number): string {
  if (Number.isNaN(d)) return 'NaN';
  if (d === Infinity) return 'Infinity';
  if (d === -Infinity) return '-Infinity';
  if (d === 0) return Object.is(d, -0) ? '-0.0' : '0.0';
  const sign = d < 0 ? '-' : '';
  const abs = Math.abs(d);
  let [mant, expText] = abs.toExponential().split('e');
  // Java (JDK 19+ spec): when one digit is shortest, the closest of one or two digits wins
  // (Double.MIN_VALUE is 4.9E-324, not 5.0E-324); only subnormals tell the two apart.
  if (!mant.includes('.')) [mant, expText] = abs.toExponential(1).split('e');
  const digits = mant.replace('.', '').replace(/(?<=.)0+$/, '');
  const exp = Number(expText);
  if (abs >= 1e-3 && abs < 1e7) {
    if (exp >= 0) {
      const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
      const frac = digits.slice(exp + 1) || '0';
      return `${sign}${int}.${frac}`;
    }
    return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  }
  return `${sign}${digits[0]}.${digits.slice(1) || '0'}E${exp}`;
}

/** BigDecimal(String).toString(): the unscaled digits and scale kept, scientific when the exponent asks for it. */
export function bigDecimalText(lexeme: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(lexeme);
  if (!m) return lexeme;
  const [, sign, int, frac = '', exp = '0'] = m;
  let digits = (int + frac).replace(/^0+(?=\d)/, '');
  const scale = frac.length - Number(exp);
  if (/^0+$/.test(digits)) digits = '0';
  const adjusted = -scale + (digits.length - 1);
  const neg = sign === '-' && digits !== '0' ? '-' : '';
  if (scale >= 0 && adjusted >= -6) {
    if (scale === 0) return neg + digits;
    if (digits.length > scale) return `${neg}${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
    return `${neg}0.${'0'.repeat(scale - digits.length)}${digits}`;
  }
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${neg}${mantissa}E${adjusted >= 0 ? '+' : ''}${adjusted}`;
}

class Reader {
  i = 0;
  constructor(private readonly s: string) {}

  fail(what: string): never {
    throw new SyntaxError(`not JSON: ${what} at offset ${this.i}`);
  }

  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.i++;
      else break;
    }
  }

  value(depth: number): JavaValue {
    if (depth > 10_000) this.fail('nesting too deep');
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === 't' && this.s.startsWith('true', this.i)) { this.i += 4; return true; }
    if (c === 'f' && this.s.startsWith('false', this.i)) { this.i += 5; return false; }
    if (c === 'n' && this.s.startsWith('null', this.i)) { this.i += 4; return null; }
    const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = this.i;
    const num = m.exec(this.s);
    if (!num || !num[0] || num[0] === '-') this.fail('unexpected character');
    this.i += num[0].length;
    return javaNumber(num[0]);
  }

  object(depth: number): JavaMap {
    const map: JavaMap = new Map();
    this.i++;
    this.ws();
    if (this.s[this.i] === '}') { this.i++; return map; }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a key');
      const key = this.string();
      this.ws();
      if (this.s[this.i] !== ':') this.fail('expected :');
      this.i++;
      // LinkedHashMap.put: a repeated key keeps its first place and takes the last value.
      map.set(key, this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return map;
      if (c !== ',') this.fail('expected , or }');
    }
  }

  array(depth: number): JavaList {
    const list: JavaList = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === ']') { this.i++; return list; }
    for (;;) {
      list.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return list;
      if (c !== ',') this.fail('expected , or ]');
    }
  }

  string(): string {
    // Fast path: no escapes.
    const s = this.s;
    for (let i = this.i + 1; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 34) {
        const out = s.slice(this.i + 1, i);
        this.i = i + 1;
        return out;
      }
      if (c === 92) break;
      if (c < 32) this.fail('control character in a string');
    }
    return this.escapedString();
  }

  private escapedString(): string {
    const start = this.i;
    const end = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
    end.lastIndex = start;
    const m = end.exec(this.s);
    if (!m) this.fail('bad string');
    this.i += m[0].length;
    return JSON.parse(m[0]) as string;
  }
}

/** Parses JSON text as json-smart does for the plugin; throws SyntaxError on text that is not JSON. */
export function parseJava(text: string): JavaValue {
  const r = new Reader(text);
  const v = r.value(0);
  r.ws();
  if (r.i !== text.length) r.fail('trailing data');
  return v;
}

/**
 * The Java model of an already parsed JS value, for callers that do not have the text: numbers
 * lose what JSON.parse dropped (1.0 reads as 1, digits past 2^53), so prefer parseJava(text).
 */
export function fromJs(v: unknown): JavaValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    return Number.isInteger(v) && Math.abs(v) < 1e21 ? javaNumber(BigInt(v).toString()) : new JavaNumber('Double', javaDoubleText(v));
  }
  if (Array.isArray(v)) return v.map(fromJs);
  if (typeof v === 'object') return new Map(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, fromJs(x)]));
  return String(v);
}

const HEX = '0123456789ABCDEF';

/** json-smart's JStylerObj.ESCAPE4Web (JSONStyle.NO_COMPRESS): "/" escaped, C1 and U+2000..U+20FF as a \u escape of four hex digits. */
function escape4Web(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const c = s.charCodeAt(i);
    switch (ch) {
      case '"': out += '\\"'; break;
      case '\\': out += '\\\\'; break;
      case '\b': out += '\\b'; break;
      case '\f': out += '\\f'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      case '/': out += '\\/'; break;
      default:
        if (c <= 0x1f || (c >= 0x7f && c <= 0x9f) || (c >= 0x2000 && c <= 0x20ff)) {
          out += `\\u${HEX[(c >> 12) & 15]}${HEX[(c >> 8) & 15]}${HEX[(c >> 4) & 15]}${HEX[c & 15]}`;
        } else out += ch;
    }
  }
  return out;
}

/** JSONValue.toJSONString(value, NO_COMPRESS): compact, every key and string quoted. */
export function jsonSmartText(v: JavaValue): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return `"${escape4Web(v)}"`;
  if (typeof v === 'boolean') return String(v);
  if (v instanceof JavaNumber) return v.kind === 'Double' && /Infinity/.test(v.text) ? 'null' : v.text;
  if (isJavaList(v)) return `[${v.map(jsonSmartText).join(',')}]`;
  return `{${[...v].map(([k, x]) => `"${escape4Web(k)}":${jsonSmartText(x)}`).join(',')}}`;
}

/** String.valueOf(value) for what Jayway returns: a list is a JSONArray (JSON text), a map a LinkedHashMap. */
export function javaString(v: JavaValue): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean' || v instanceof JavaNumber) return String(v);
  if (isJavaList(v)) return jsonSmartText(v);
  return `{${[...v].map(([k, x]) => `${k}=${javaString(x)}`).join(', ')}}`;
}

/** Objects.toString(value, ""): the text a msgCheck's regular expression is applied to. */
export function objectsToString(v: JavaValue | undefined): string {
  return v === null || v === undefined ? '' : javaString(v);
}
