import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/host.ts';

// The worker reads the isolate bootstrap (runtime/worker/bootstrap/*.js) from beside its compiled code.
// tsc does not copy plain JavaScript, so every build (npm run build, and the suite's own build in
// test/helpers/host.ts) must: without the files, every call fails with PACKAGE_LOAD_FAILED.
const SOURCE = join(ROOT, 'runtime', 'worker', 'bootstrap');
const sources = readdirSync(SOURCE).filter((f) => f.endsWith('.js'));

function expectBootstrapIn(out: string): void {
  const dir = join(out, 'runtime', 'worker', 'bootstrap');
  expect(readdirSync(dir).filter((f) => f.endsWith('.js')).sort()).toEqual([...sources].sort());
  for (const f of sources) expect([f, readFileSync(join(dir, f), 'utf8')]).toEqual([f, readFileSync(join(SOURCE, f), 'utf8')]);
}

describe('the isolate bootstrap in a build', () => {
  it('is copied by scripts/copy-bootstrap.ts into the output directory it is given', () => {
    const out = tempDir('bootstrap-out');
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'copy-bootstrap.ts'), out]);
    expectBootstrapIn(out);
  });

  it('is in dist/ as the suite built it, current with the sources', () => {
    expectBootstrapIn(join(ROOT, 'dist'));
  });
});
