// JSON in and out for the Node adapter SDK, as the reference adapter reads it.
//
// JSON.parse cannot say whether `1.0` was written as an integer (the reference and the Python
// and Go SDKs refuse it where an integer is wanted), loses integers beyond 2^53 (an `id` must be
// echoed unchanged) and turns 1e400 into Infinity. So requests are read by this small parser:
// integers come back as Number when exact, as BigInt beyond; other numbers as JsonFloat. It is
// iterative (no call stack to overflow), and nesting deeper than MAX_DEPTH is refused, as Go's
// encoding/json refuses it (Python's json fails at about 1000): a 1 MiB line of "[" would
// otherwise hold the garbage collector for seconds.
'use strict';

// A number written with a fraction or an exponent: a "number" that is not an integer.
class JsonFloat {
  constructor(text, value) {
    this.text = text;
    this.value = value;
  }
}

class JsonSyntaxError extends Error {}

const MAX_DEPTH = 10000;
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const ESCAPES = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t'
};

function parse(text) {
  let i = 0;
  const fail = (what) => {
    throw new JsonSyntaxError(`${what} at byte ${i}`);
  };
  const space = () => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
         c = text.charCodeAt(i))
      i += 1;
  };
  const string = () => {
    i += 1;  // the opening quote
    let out = '';
    for (;;) {
      const start = i;
      while (i < text.length && text[i] !== '"' && text[i] !== '\\' && text.charCodeAt(i) >= 0x20)
        i += 1;
      out += text.slice(start, i);
      if (i >= text.length) fail('unterminated string');
      if (text[i] === '"') {
        i += 1;
        return out;
      }
      if (text[i] !== '\\') fail('control character in a string');
      const c = text[i + 1];
      if (c === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else if (c in ESCAPES) {
        out += ESCAPES[c];
        i += 2;
      } else {
        fail('bad escape');
      }
    }
  };
  const number = () => {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) fail('unexpected character');
    i = NUMBER.lastIndex;
    if (m[1] === undefined && m[2] === undefined) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    const v = Number(m[0]);
    if (!Number.isFinite(v)) throw new JsonSyntaxError(`number ${m[0]} does not fit in a double`);
    return new JsonFloat(m[0], v);
  };
  const literal = (word, value) => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return value;
    }
    return fail('unexpected character');
  };
  // A container being filled: {value, key (objects), first}.
  const stack = [];
  let result;
  let done = false;
  const put = (v) => {
    const top = stack[stack.length - 1];
    if (!top) {
      result = v;
      done = true;
    } else if (Array.isArray(top.value)) {
      top.value.push(v);
    } else {
      top.value[top.key] = v;  // null prototype: "__proto__" is a plain key
    }
  };
  for (;;) {
    space();
    if (done) break;
    const top = stack[stack.length - 1];
    if (top && !top.first) {  // after an element: "," or the end of the container
      const close = Array.isArray(top.value) ? ']' : '}';
      if (text[i] === close) {
        i += 1;
        stack.pop();
        put(top.value);
        continue;
      }
      if (text[i] !== ',') fail(`expected "," or "${close}"`);
      i += 1;
      space();
    }
    if (top && !Array.isArray(top.value)) {  // a key and its colon
      if (top.first && text[i] === '}') {
        i += 1;
        stack.pop();
        put(top.value);
        continue;
      }
      if (text[i] !== '"') fail('expected a key');
      top.key = string();
      space();
      if (text[i] !== ':') fail('expected ":"');
      i += 1;
      space();
    } else if (top && top.first && text[i] === ']') {
      i += 1;
      stack.pop();
      put(top.value);
      continue;
    }
    if (top) top.first = false;
    const c = text[i];
    if ((c === '{' || c === '[') && stack.length >= MAX_DEPTH)
      fail(`nested deeper than ${MAX_DEPTH} levels`);
    if (c === '{') {
      i += 1;
      stack.push({value: Object.create(null), key: null, first: true});
    } else if (c === '[') {
      i += 1;
      stack.push({value: [], first: true});
    } else if (c === '"') {
      put(string());
    } else if (c === 't') {
      put(literal('true', true));
    } else if (c === 'f') {
      put(literal('false', false));
    } else if (c === 'n') {
      put(literal('null', null));
    } else if (i >= text.length) {
      fail('unexpected end');
    } else {
      put(number());
    }
  }
  if (i !== text.length) fail('text after the value');
  return result;
}

// A string that encodes as UTF-8: lone surrogates (from a request's \ud800) become U+FFFD, as
// the reference writes them.
function wellFormed(s) {
  return s.toWellFormed ?
      s.toWellFormed() :
      s.replace(
          /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

// One reply as one line of text: BigInt and JsonFloat as written, strings well formed.
function dump(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof JsonFloat) return v.text;
  if (typeof v === 'string') return JSON.stringify(wellFormed(v));
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return '[' + v.map(dump).join(',') + ']';
  const parts = [];
  for (const k of Object.keys(v)) {
    if (v[k] !== undefined) parts.push(JSON.stringify(wellFormed(k)) + ':' + dump(v[k]));
  }
  return '{' + parts.join(',') + '}';
}

module.exports = {
  parse,
  dump,
  JsonFloat,
  JsonSyntaxError,
  MAX_DEPTH
};
