/**
 * A child process that installs a package and SIGKILLs itself right after one step of the commit
 * (test/host/install/crash.test.ts): a real crash, no cleanup code runs.
 *
 * Usage: node install-crash.ts HOME TARBALL STEP
 */
import { homeLayout } from '../../host/home/home.ts';
import { installPackage } from '../../host/install/install.ts';
import type { InstallStep } from '../../host/install/commit.ts';
import { readInstallSource } from '../../host/install/source.ts';

const [home, tarball, step] = process.argv.slice(2) as [string, string, InstallStep];
const source = await readInstallSource(tarball, undefined, process.cwd());
await installPackage(homeLayout(home), source, {
  bindings: {},
  yes: true,
  allowDowngrade: false,
  trustNewSigner: false,
  cwd: process.cwd(),
  hooks: {
    at: (s) => {
      if (s === step) process.kill(process.pid, 'SIGKILL');
    },
  },
});
process.stdout.write('survived\n');
