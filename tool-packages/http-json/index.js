// http-json: a small JSON API client. Only the host the user bound to the "api" slot is reachable;
// the sandbox refuses every other URL with CAPABILITY_DENIED.

function pick(value, path) {
  if (!path) return value;
  let v = value;
  for (const key of path.split('.').filter(Boolean)) {
    if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, key)) return null;
    v = v[key];
  }
  return v;
}

async function readJson(res) {
  const text = await res.text();
  let body;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    throw new Error(`${res.status} ${res.statusText}: the response is not JSON`);
  }
  if (!res.ok) throw new Error(`${res.status} ${res.statusText}: ${JSON.stringify(body).slice(0, 300)}`);
  return body;
}

export default {
  async get_json({ url, query, pick: path }, ctx) {
    const u = new URL(url);
    for (const [k, v] of Object.entries(query ?? {})) u.searchParams.set(k, String(v));
    const res = await ctx.fetch(u.href, { headers: { accept: 'application/json' }, signal: ctx.signal });
    return { status: res.status, data: pick(await readJson(res), path) };
  },

  async post_json({ url, body }, ctx) {
    const res = await ctx.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      signal: ctx.signal,
    });
    return { status: res.status, data: await readJson(res) };
  },
};
