/** `list` and the consent screen show what a package serves: tools, resources, templates, prompts. */
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as install from '../../../host/commands/install.ts';
import * as list from '../../../host/commands/list.ts';
import { publicKeyPem } from '../../../host/signing/keys.ts';
import { parsePublisher, saveTrustPolicy } from '../../../host/trust/policy.ts';
import { packToBuffer } from '../../../host/pack/pack.ts';
import { signedWithKey, writeEchoPackage, writeSigned } from '../../helpers/install-fixtures.ts';
import { runCommandModule } from '../../helpers/run-command.ts';
import { tempDir } from '../../helpers/tool-package.ts';

const acme = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const SERVES = {
  resources: [{ name: 'readme', uri: 'docs://readme', file: 'README.md' }],
  resourceTemplates: [{ name: 'note', uriTemplate: 'notes://{id}', handler: 'note' }],
  prompts: [
    { name: 'summarize', arguments: [{ name: 'text' }], messages: [{ role: 'user', text: 'Summarize {{text}}' }] },
    { name: 'dynamic', handler: 'dynamic' },
  ],
};

async function installServing(work: string, home: string): Promise<{ stdout: string; stderr: string }> {
  const dir = writeEchoPackage('@acme/notes', '1.0.0');
  const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  Object.assign(pj.mcpWarden, SERVES);
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pj));
  writeFileSync(join(dir, 'README.md'), '# notes\n');
  const t = (await packToBuffer(dir)).data;
  await saveTrustPolicy(join(home, 'trust.json'), { publishers: [parsePublisher({ name: 'acme', kind: 'key', publicKeyPem: publicKeyPem(acme.publicKey) })] });
  const r = await runCommandModule(install as never, [writeSigned(work, 'notes.tgz', t, signedWithKey(t, acme.privateKey)), '--yes', '--home', home], { cwd: work });
  expect(r.code).toBe(0);
  return r;
}

describe('what a package serves', () => {
  it('install shows it before consent, and list shows it (text and JSON)', async () => {
    const work = tempDir('mcpw-serves-');
    const home = join(work, 'home');
    const installed = await installServing(work, home);
    const shown = installed.stdout + installed.stderr;
    expect(shown).toContain('Resources:   1 file(s) of the package: readme <docs://readme>');
    expect(shown).toContain('Templates:   1 resource template(s), read by its code in the sandbox: note <notes://{id}>');
    expect(shown).toContain('Prompts:     2 prompt(s) (1 produced by its code in the sandbox): summarize, dynamic');

    const text = (await runCommandModule(list as never, ['--home', home], { cwd: work })).stdout;
    expect(text).toContain('  tools:     1: echo');
    expect(text).toContain('  resources: 1: readme <docs://readme>');
    expect(text).toContain('  templates: 1: note <notes://{id}>');
    expect(text).toContain('  prompts:   2: summarize, dynamic');
    const json = JSON.parse((await runCommandModule(list as never, ['--home', home, '--json'], { cwd: work })).stdout);
    expect(json.packages[0].serves).toEqual({ tools: ['echo'], resources: ['readme <docs://readme>'], resourceTemplates: ['note <notes://{id}>'], prompts: ['summarize', 'dynamic'] });

    // A package.json changed since install is not believed.
    appendFileSync(join(home, 'packages', '@acme', 'notes@1.0.0', 'package.json'), ' ');
    const after = JSON.parse((await runCommandModule(list as never, ['--home', home, '--json'], { cwd: work })).stdout);
    expect(after.packages[0].serves).toBeNull();
  });
});
