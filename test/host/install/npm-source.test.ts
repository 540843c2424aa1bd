import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registrySpecOf } from '../../../host/install/npm-source.ts';
import { tempDir } from '../../helpers/tool-package.ts';

describe('registrySpecOf: which install argument is an npm package', () => {
  const cwd = tempDir('mcpw-npm-src-');
  writeFileSync(join(cwd, 'weather'), 'a local tarball without an extension');

  it.each([
    ['@acme/weather', '@acme/weather', 'latest'],
    ['@acme/weather@^1.2', '@acme/weather', '^1.2'],
    ['weather-tool@1.0.0', 'weather-tool', '1.0.0'],
    ['npm:weather', 'weather', 'latest'],
  ])('%s is a registry spec', (arg, name, wanted) => {
    expect(registrySpecOf(arg, cwd)).toMatchObject({ name, wanted });
  });

  it.each(['weather', './dist/x.tgz', 'dist/x.tgz', 'x.tgz', 'https://example.com/x.tgz', 'http://example.com/x.tgz', 'file:x.tgz', 'git+https://example.com/x.git'])('%s is a tarball (an existing file, a path, a URL)', (arg) => {
    expect(registrySpecOf(arg, cwd)).toBeUndefined();
  });
});
