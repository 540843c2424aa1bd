import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envConfig, expandEnv, loadNpmConfig, parseNpmrc, registryFor } from '../../../host/registry/npmrc.ts';
import { codeOf } from '../../helpers/codes.ts';
import { tempDir } from '../../helpers/tool-package.ts';

describe('expandEnv', () => {
  it.each([
    ['${TOKEN}', 'secret'],
    ['a-${TOKEN}-b', 'a-secret-b'],
    ['${UNSET}', '${UNSET}'],
    ['${UNSET?}', ''],
    ['\\${TOKEN}', '${TOKEN}'],
    ['\\\\${TOKEN}', '\\secret'],
  ])('expands %s as npm does', (text, want) => {
    expect(expandEnv(text, { TOKEN: 'secret' })).toBe(want);
  });
});

describe('envConfig', () => {
  it('maps npm_config_* to config keys, case-insensitively, keeping a leading underscore and //-keys', () => {
    expect(envConfig({ npm_config_registry: 'https://r.example/', NPM_CONFIG_STRICT_SSL: 'true', npm_config__auth: 'x', 'npm_config_//r.example/:_authToken': 't', npm_config_empty: '', OTHER: 'y' })).toEqual({
      registry: 'https://r.example/',
      'strict-ssl': 'true',
      _auth: 'x',
      '//r.example/:_authToken': 't',
    });
  });
});

describe('loadNpmConfig', () => {
  it('layers the user file, the project file and the environment, expanding ${VAR} in keys and values', () => {
    const home = tempDir('mcpw-npmrc-home-');
    const project = tempDir('mcpw-npmrc-proj-');
    writeFileSync(join(home, '.npmrc'), 'registry=https://user.example/\n@acme:registry=https://acme.example/npm/\n//acme.example/npm/:_authToken=${ACME_TOKEN}\n');
    writeFileSync(join(project, 'package.json'), '{}');
    mkdirSync(join(project, 'sub'));
    writeFileSync(join(project, '.npmrc'), 'registry=https://project.example/\n');
    const c = loadNpmConfig(join(project, 'sub'), { HOME: home, ACME_TOKEN: 'tok' });
    expect(c.registry).toBe('https://project.example/');
    expect(c['@acme:registry']).toBe('https://acme.example/npm/');
    expect(c['//acme.example/npm/:_authToken']).toBe('tok');
    expect(loadNpmConfig(project, { HOME: home, npm_config_registry: 'https://env.example/' }).registry).toBe('https://env.example/');
    // $npm_config_userconfig replaces ~/.npmrc
    const other = join(tempDir('mcpw-npmrc-u-'), 'rc');
    writeFileSync(other, 'registry=https://other.example/\n');
    expect(loadNpmConfig(tempDir('mcpw-npmrc-none-'), { HOME: home, npm_config_userconfig: other }).registry).toBe('https://other.example/');
  });

  it('defaults to the public registry', () => {
    expect(loadNpmConfig(tempDir('mcpw-npmrc-none-'), { HOME: tempDir('mcpw-npmrc-empty-') }).registry).toBe('https://registry.npmjs.org/');
  });

  it('reads string settings only', () => {
    expect(parseNpmrc('a=1\n[section]\nb=2\n', {})).toEqual({ a: '1' });
  });
});

describe('registryFor', () => {
  const config = { registry: 'https://registry.example/', '@acme:registry': 'https://acme.example/npm' };
  it('picks the scope registry for a scoped name, else the default, with a trailing slash', () => {
    expect(registryFor(config, '@acme/tool').href).toBe('https://acme.example/npm/');
    expect(registryFor(config, '@other/tool').href).toBe('https://registry.example/');
    expect(registryFor(config, 'tool').href).toBe('https://registry.example/');
  });
  it.each(['http://registry.example/', 'ftp://x/', 'not a url', 'https://user:pw@registry.example/'])('refuses %s', (registry) => {
    expect(codeOf(() => registryFor({ registry }, 'tool'))).toBe('REGISTRY_CONFIG_INVALID');
  });
  it.each(['http://127.0.0.1:4873/', 'http://localhost:4873/', 'http://[::1]:4873/'])('accepts plain http on loopback: %s', (registry) => {
    expect(registryFor({ registry }, 'tool').protocol).toBe('http:');
  });
});
