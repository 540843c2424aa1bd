// text-tools: pure transforms, no capability. A single ES module with no imports (the mcp-warden bundle format).

function parsePath(path) {
  const p = path.trim().replace(/^\$\.?/, '');
  const parts = [];
  const re = /([^.[\]]+)|\[(\d+|\*|"[^"]*"|'[^']*')\]/g;
  let m;
  while ((m = re.exec(p)) !== null) {
    if (m[1] !== undefined) parts.push(m[1] === '*' ? '*' : m[1]);
    else {
      const b = m[2];
      if (b === '*') parts.push('*');
      else if (/^\d+$/.test(b)) parts.push(Number(b));
      else parts.push(b.slice(1, -1));
    }
  }
  return parts;
}

function walk(value, parts) {
  if (parts.length === 0) return value;
  const [head, ...rest] = parts;
  if (head === '*') {
    if (!Array.isArray(value)) throw new Error('"*" needs an array');
    return value.map((v) => walk(v, rest));
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (!Object.prototype.hasOwnProperty.call(value, head)) return undefined;
  return walk(value[head], rest);
}

function words(text) {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

// The sandbox has no atob/btoa (they are web APIs, not JavaScript): a small codec.
function toBase64(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63];
    out += i + 1 < bytes.length ? ALPHABET[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? ALPHABET[n & 63] : '=';
  }
  return out;
}

function fromBase64(text) {
  const clean = text.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(clean) || clean.length % 4 === 1) throw new Error('the text is not valid base64');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let j = 0;
  for (const c of clean) {
    acc = (acc << 6) | ALPHABET.indexOf(c);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, j);
}

export default {
  json_path({ json, path }) {
    let doc;
    try {
      doc = JSON.parse(json);
    } catch {
      throw new Error('the "json" argument is not valid JSON');
    }
    const value = walk(doc, parsePath(path));
    return { found: value !== undefined, value: value === undefined ? null : value };
  },

  convert_case({ text, to }) {
    const w = words(text);
    switch (to) {
      case 'upper':
        return text.toUpperCase();
      case 'lower':
        return text.toLowerCase();
      case 'title':
        return text.toLowerCase().replace(/(^|\s)(\p{L})/gu, (_m, sp, c) => sp + c.toUpperCase());
      case 'snake':
        return w.map((x) => x.toLowerCase()).join('_');
      case 'kebab':
        return w.map((x) => x.toLowerCase()).join('-');
      case 'camel':
        return w.map((x, i) => (i === 0 ? x.toLowerCase() : x[0].toUpperCase() + x.slice(1).toLowerCase())).join('');
    }
    throw new Error(`unknown case ${to}`);
  },

  base64({ text, mode }) {
    if (mode === 'encode') return toBase64(new TextEncoder().encode(text));
    return new TextDecoder().decode(fromBase64(text));
  },

  async sha256({ text }) {
    const bytes = new TextEncoder().encode(text);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    return { hex: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''), bytes: bytes.length };
  },

  word_count({ text, top = 5 }) {
    const list = text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
    const counts = new Map();
    for (const w of list) counts.set(w, (counts.get(w) ?? 0) + 1);
    const ranked = [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, top)
      .map(([word, count]) => ({ word, count }));
    return { characters: [...text].length, words: list.length, lines: text === '' ? 0 : text.split('\n').length, top: ranked };
  },
};
