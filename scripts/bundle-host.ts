/**
 * Build step: bundles the compiled host (dist/host/cli.js and everything it imports, our ~200 modules and
 * the pure-JavaScript dependencies) into one ES module, dist/host/bundle/cli.js, what bin/mcp-warden.cjs
 * loads. Start-up then reads, compiles and links a few files instead of a few hundred. What the CLI imports
 * lazily (`import()`: each command, the Sigstore verifiers, …) becomes a chunk of its own beside the entry
 * (`splitting`), loaded when first needed as before.
 *
 * Left out of the bundle (loaded from node_modules as before): native addons (isolated-vm, @napi-rs/keyring),
 * packages that find their own files or run their own executables by path (esbuild, pacote; and
 * npm-registry-fetch's HTTP stack, which only install loads, kept as published), and what the
 * host `require`s through createRequire on first use (ajv and ajv-formats, @sigstore/*): those stay lazy.
 * pino is bundled: the logger uses no transport (the only part of pino that starts a worker by path).
 *
 * Files found next to a module (`new URL('./x.cjs', import.meta.url)`, createRequire, the worker's entry,
 * the isolate bootstrap, the wrap shims, package.json for the version): each bundled module's
 * `import.meta.url` and `import.meta.dirname` are rewritten to those of its compiled file in dist/, which
 * stays, so every relative lookup finds what it found before. The worker process keeps its own entry
 * (dist/runtime/worker-process spawns dist/runtime/worker/main.js under the permission model).
 *
 * Also writes dist/host/bundle/meta.json: which source files each output file holds (esbuild's metafile,
 * trimmed), so a test can tell which modules a run loaded.
 *
 *   node scripts/bundle-host.ts [outDir]
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';
import { CLI_BUNDLE } from './cli-entry.ts';

const root = join(import.meta.dirname, '..');
const out = resolve(process.argv[2] ?? join(root, 'dist'));
const bundleDir = join(out, ...CLI_BUNDLE.slice(1, -1));

const NODE_MODULES = `${sep}node_modules${sep}`;

/** Packages kept external (see above). */
const EXTERNAL = ['isolated-vm', '@napi-rs/keyring', 'esbuild', 'pacote', 'npm-registry-fetch', 'ajv', 'ajv-formats', '@sigstore/*', 'ajv/*', 'ajv-formats/*'];

/**
 * Rewrites `import.meta.url` / `.dirname` / `.filename` in dist's own files to those of the file's compiled
 * location, relative to the output file that ends up holding it (every output file sits in bundleDir, and
 * the banner below defines the two helpers): the bundle stays relocatable with dist/ (the test suite builds
 * in a directory of its own and moves the files).
 */
const importMetaOfOrigin: Plugin = {
  name: 'import-meta-of-origin',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, (args) => {
      if (args.path.includes(NODE_MODULES)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta')) return { contents: text, loader: 'js' };
      const file = JSON.stringify(relative(bundleDir, args.path).split(sep).join('/'));
      const dir = JSON.stringify(relative(bundleDir, dirname(args.path)).split(sep).join('/'));
      // Not inside a string: host/wrap/bundle.ts names 'import.meta.url' as a define for esbuild.
      const contents = text
        .replace(/(?<!['"`])\bimport\.meta\.url\b/g, `__wardenOrigin(${file}).href`)
        .replace(/(?<!['"`])\bimport\.meta\.dirname\b/g, `__wardenOriginPath(${dir})`)
        .replace(/(?<!['"`])\bimport\.meta\.filename\b/g, `__wardenOriginPath(${file})`);
      if (/(?<!['"`])\bimport\.meta\b/.test(contents)) throw new Error(`${args.path}: an import.meta use the bundle cannot place`);
      return { contents, loader: 'js' };
    });
  },
};

// Prepended to every output file. CommonJS dependencies bundled into an ES module still `require` Node's
// built-ins (esbuild renames any module's own top-level `require`); the helpers place rewritten import.meta.
const BANNER = [
  "import { createRequire as __wardenCreateRequire } from 'node:module';",
  "import { fileURLToPath as __wardenFileURLToPath } from 'node:url';",
  'const require = __wardenCreateRequire(import.meta.url);',
  'const __wardenOrigin = (p) => new URL(p, import.meta.url);',
  'const __wardenOriginPath = (p) => __wardenFileURLToPath(__wardenOrigin(p));',
].join(' ');

rmSync(bundleDir, { recursive: true, force: true });
const result = await build({
  entryPoints: { cli: join(out, 'host', 'cli.js') },
  outdir: bundleDir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  external: EXTERNAL,
  banner: { js: BANNER },
  chunkNames: 'chunk-[hash]',
  plugins: [importMetaOfOrigin],
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

// Which inputs each output holds: our compiled files relative to outDir (host/x.js), dependencies from their
// node_modules (node_modules/p/x.js).
const inputName = (input: string): string => {
  const file = resolve(input);
  const at = file.lastIndexOf(NODE_MODULES);
  return at >= 0 ? `node_modules/${file.slice(at + NODE_MODULES.length)}` : relative(out, file);
};
const meta: Record<string, string[]> = {};
for (const [file, output] of Object.entries(result.metafile.outputs)) meta[relative(bundleDir, resolve(file))] = Object.keys(output.inputs).map(inputName);
writeFileSync(join(bundleDir, 'meta.json'), `${JSON.stringify(meta, null, 1)}\n`);
