// file-search: grep and list over the "workspace" slot. Paths the client gives are relative to the
// workspace; the sandbox re-checks every access against the read grant (symlinks out are refused).

const SKIP_DIRS = new Set(['.git', 'node_modules', '.hg', '.svn', 'dist', 'build']);
const MAX_FILE_BYTES = 1024 * 1024;

function root(ctx) {
  const w = ctx.paths.workspace;
  if (!w) throw new Error('no workspace is bound: start the host with --grant workspace=DIR');
  return w;
}

/** Joins a client-relative path onto the workspace; ".." cannot climb above it. */
function resolveIn(base, rel) {
  const parts = [];
  for (const seg of String(rel ?? '').split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) throw new Error('the path leaves the workspace');
      parts.pop();
    } else parts.push(seg);
  }
  return parts.length === 0 ? base : `${base}/${parts.join('/')}`;
}

function relative(base, abs) {
  return abs === base ? '.' : abs.slice(base.length + 1);
}

function escapeRegex(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function* walkFiles(ctx, dir, depth, maxDepth) {
  if (ctx.signal.aborted) return;
  const entries = await ctx.fs.readdir(dir);
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const p = `${dir}/${e.name}`;
    if (e.kind === 'directory') {
      if (!SKIP_DIRS.has(e.name) && depth < maxDepth) yield* walkFiles(ctx, p, depth + 1, maxDepth);
    } else if (e.kind === 'file') yield p;
  }
}

export default {
  async grep({ pattern, regex = false, ignoreCase = false, dir, extensions, maxResults = 100 }, ctx) {
    const base = root(ctx);
    let re;
    try {
      re = new RegExp(regex ? pattern : escapeRegex(pattern), ignoreCase ? 'i' : '');
    } catch {
      throw new Error('pattern is not a valid regular expression');
    }
    const exts = extensions?.map((e) => (e.startsWith('.') ? e : `.${e}`).toLowerCase());
    const matches = [];
    let filesScanned = 0;
    let truncated = false;
    outer: for await (const file of walkFiles(ctx, resolveIn(base, dir), 0, 20)) {
      if (exts && !exts.some((x) => file.toLowerCase().endsWith(x))) continue;
      const info = await ctx.fs.stat(file);
      if (info.size > MAX_FILE_BYTES) continue;
      const text = await ctx.fs.readFile(file, 'utf8');
      if (text.includes('\u0000')) continue; // binary
      filesScanned++;
      const lines = text.split('\n');
      for (let i = 0; i < lines.length; i++) {
        if (re.test(lines[i])) {
          if (matches.length >= maxResults) {
            truncated = true;
            break outer;
          }
          matches.push({ file: relative(base, file), line: i + 1, text: lines[i].slice(0, 300) });
        }
      }
    }
    return { matches, filesScanned, truncated };
  },

  async list_files({ dir, maxDepth = 3, maxResults = 500 }, ctx) {
    const base = root(ctx);
    const files = [];
    for await (const file of walkFiles(ctx, resolveIn(base, dir), 0, maxDepth)) {
      if (files.length >= maxResults) return { files, truncated: true };
      const info = await ctx.fs.stat(file);
      files.push({ path: relative(base, file), size: info.size });
    }
    return { files, truncated: false };
  },

  async read_file({ path, fromLine, toLine }, ctx) {
    const file = resolveIn(root(ctx), path);
    const info = await ctx.fs.stat(file);
    if (info.kind !== 'file') throw new Error(`${path} is not a file`);
    if (info.size > MAX_FILE_BYTES) throw new Error(`${path} is larger than 1 MiB`);
    const text = await ctx.fs.readFile(file, 'utf8');
    if (fromLine === undefined && toLine === undefined) return text;
    const lines = text.split('\n');
    return lines.slice((fromLine ?? 1) - 1, toLine ?? lines.length).join('\n');
  },
};
