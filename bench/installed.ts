/**
 * Homes with 1, 10, 50… installed, signed copies of the bench package, built with the CLI's own commands
 * the way a user would (scripts/demo.ts does the same): one `keygen`, a `pack` and a `sign` per package,
 * then per home `trust add-key` and `install --yes` of each tarball. Done once per bench run, in a temp
 * directory, so the start-up figures include what serve does for installed packages (seal, trust and
 * integrity re-checks) and not only the `--dev` path. The commands run in this process (the CLI's command
 * table, argv and all), not one process each: ~120 Node start-ups would cost more than the bench itself.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { COMMANDS } from '../host/commands/index.ts';
import { prepareHome } from './setup.ts';
import type { BenchHome } from './setup.ts';

/** Runs `mcp-warden ARGS` through the CLI's command table; fails with its output when it exits non-zero. */
async function warden(args: readonly string[]): Promise<void> {
  const [name, ...rest] = args;
  const load = COMMANDS[name as string];
  if (load === undefined) throw new Error(`no command ${name}`);
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
  const code = await (await load()).run(rest, { stdout: sink, stderr: sink, env, cwd: process.cwd() });
  if (code !== 0) throw new Error(`mcp-warden ${args.join(' ')} exited ${code}: ${out.slice(0, 500)}`);
}

/**
 * One home per entry of `counts`, each with that many bench packages (`bench-tools-0` …) installed and
 * signed by one trusted key; `netRules` is what their manifests ask (and install consents to).
 */
export async function installedHomes(counts: readonly number[], netRules: readonly string[]): Promise<Map<number, BenchHome>> {
  const most = Math.max(...counts);
  const sources = await prepareHome(most, netRules, { prefix: 'bench-tools' });
  const work = mkdtempSync(join(tmpdir(), 'warden-bench-installed-'));
  const key = join(work, 'publisher');
  const tarballs = join(work, 'tarballs');
  await warden(['keygen', '--out', key]);
  const files = sources.packageDirs.map((_, i) => join(tarballs, `bench-tools-${i}-1.0.0.tgz`));
  for (const [i, dir] of sources.packageDirs.entries()) {
    await warden(['pack', dir, '--out', tarballs]);
    await warden(['sign', files[i] as string, '--key', `${key}.key`]);
  }
  const homes = new Map<number, BenchHome>();
  for (const count of counts) {
    const home = join(work, `home-${count}`);
    mkdirSync(home, { mode: 0o700 });
    await warden(['trust', 'add-key', `${key}.pub`, '--name', 'bench', '--home', home]);
    for (const file of files.slice(0, count)) await warden(['install', file, '--yes', '--home', home]);
    homes.set(count, { home, packageDirs: [], count });
  }
  return homes;
}
