// notes: tools, a static resource, a resource template, prompts with completions, and ctx.log to the
// client. A single ES module with no imports (the mcp-warden bundle format). Notes live as <id>.md in
// the directory the user bound to the "notes" slot; the sandbox allows nothing else.

const ID = /^[A-Za-z0-9_-]{1,64}$/;

function dir(ctx) {
  const d = ctx.paths.notes;
  if (!d) throw new Error('no directory is bound to the "notes" slot (serve --grant notes=DIR)');
  return d;
}

function pathOf(ctx, id) {
  if (typeof id !== 'string' || !ID.test(id)) throw new Error('a note id is 1-64 letters, digits, - or _');
  return `${dir(ctx)}/${id}.md`;
}

async function ids(ctx) {
  const entries = await ctx.fs.readdir(dir(ctx));
  return entries.filter((e) => e.kind === 'file' && e.name.endsWith('.md')).map((e) => e.name.slice(0, -3)).sort();
}

export default {
  async add_note({ id, text }, ctx) {
    await ctx.fs.writeFile(pathOf(ctx, id), text);
    ctx.log('info', `saved note ${id}`, { bytes: text.length });
    return `saved ${id}`;
  },
  async list_notes(_input, ctx) {
    return { ids: await ids(ctx) };
  },
};

/** Resource templates: notes://note/{id}. */
export const resources = {
  async note({ variables }, ctx) {
    ctx.log('notice', `reading note ${variables.id}`);
    return { text: await ctx.fs.readFile(pathOf(ctx, variables.id), 'utf8'), mimeType: 'text/markdown' };
  },
};

/** Prompts produced in the sandbox. */
export const prompts = {
  async summarizeNote({ id }, ctx) {
    const text = await ctx.fs.readFile(pathOf(ctx, id), 'utf8');
    return {
      description: `Summarize note ${id}`,
      messages: [
        { role: 'user', content: { type: 'resource', resource: { uri: `notes://note/${id}`, mimeType: 'text/markdown', text } } },
        { role: 'user', content: { type: 'text', text: 'Summarize the note above in three sentences.' } },
      ],
    };
  },
};

/** Completions: the saved ids starting with what was typed. */
export const completions = {
  async noteIds({ argument }, ctx) {
    const all = await ids(ctx);
    const hits = all.filter((id) => id.startsWith(argument.value));
    return { values: hits.slice(0, 100), total: hits.length, hasMore: hits.length > 100 };
  },
};
