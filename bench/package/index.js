// The tool logic both servers run: mcp-warden inside its sandbox, the plain server in-process.
// An ES module with no imports, as a tool package's bundle must be.
export default {
  // A trivial call: the floor of per-call overhead.
  echo: (input) => ({ echo: input.text }),

  // Real work on a ~100 KB input: parse, transform and hash JSON.
  transform: async (input) => {
    const rows = JSON.parse(input.json);
    const out = rows.map((r) => ({ id: r.id, name: String(r.name).toUpperCase(), total: r.items.reduce((a, b) => a + b, 0) }));
    const text = JSON.stringify(out);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
    let hex = '';
    for (const b of digest) hex += b.toString(16).padStart(2, '0');
    return { rows: out.length, bytes: text.length, sha256: hex };
  },

  // A large result (~1 MB of JSON for 25 000 rows) from a small input: the per-MB cost of results.
  rows: (input) => Array.from({ length: input.n }, (_, i) => ({ id: i, name: `row-${i}`, total: i * 3, ok: i % 2 === 0 })),

  // A capability-gated fetch to a local HTTP server.
  fetchJson: async (input, ctx) => {
    const r = await (ctx?.fetch ?? fetch)(input.url);
    const body = await r.json();
    return { status: r.status, items: body.items.length };
  },
};
