import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { homeLayout } from '../../../host/home/home.ts';
import { loadPackage } from '../../../host/serve/loader.ts';
import { createRegistry } from '../../../host/serve/registry.ts';
import { tempDir } from '../../helpers/host.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'packages');
const load = (name: string) =>
  loadPackage({ kind: 'dev', dir: join(FIXTURES, name), grantOverrides: { slots: {} } }, { home: homeLayout(tempDir('mcpw-registry-')), verify: async () => { throw new Error('dev only'); } });

describe('createRegistry', () => {
  it('says which lists a replace changed', async () => {
    const greeter = await load('greeter');
    const content = await load('content');
    const r = createRegistry([greeter]);
    expect(r.lastChanges()).toEqual({ tools: false, resources: false, prompts: false });
    expect(r.replace([greeter, content])).toBe(true);
    expect(r.lastChanges()).toEqual({ tools: true, resources: true, prompts: true });
    expect(r.replace([greeter, content])).toBe(false);
    expect(r.lastChanges()).toEqual({ tools: false, resources: false, prompts: false });
    expect(r.replace([content])).toBe(true);
    expect(r.lastChanges()).toEqual({ tools: true, resources: false, prompts: false });
  });

  it('lists in a deterministic order whatever the order of the packages', async () => {
    const [a, b] = [await load('content'), await load('hostile-content')];
    const x = createRegistry([a, b]);
    const y = createRegistry([b, a]);
    expect(x.listResourceTemplates()).toEqual(y.listResourceTemplates());
    expect(x.listPrompts()).toEqual(y.listPrompts());
    expect(x.listResources()).toEqual(y.listResources());
  });

  it('serves a prompt name or URI space claimed twice by neither package', async () => {
    const a = await load('content');
    const r = createRegistry([a, { ...a, name: 'content-copy' }]);
    expect(r.listPrompts()).toEqual([]);
    expect(r.listResources()).toEqual([]);
    expect(r.resolveUri('mcp-warden://content-fixture/docs://readme')).toBeUndefined();
  });
});
