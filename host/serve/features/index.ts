/**
 * The feature handlers the protocol layer wires in (host/serve/server.ts): resources, prompts and
 * completions of the served packages. See call-context.ts for the contract.
 */
import type { Features } from './call-context.ts';
import { complete } from './completions.ts';
import { getPrompt } from './prompts.ts';
import { readResource } from './resources.ts';
import type { FeatureDeps } from './run.ts';

export type { CallContext, Features } from './call-context.ts';
export type { FeatureDeps } from './run.ts';
export { featureError, hostLogLevel, runInSandbox } from './run.ts';

export function createFeatures(deps: FeatureDeps): Features {
  return {
    listResources: () => deps.registry.listResources(),
    listResourceTemplates: () => deps.registry.listResourceTemplates(),
    readResource: (uri, call) => readResource(deps, uri, call),
    listPrompts: () => deps.registry.listPrompts(),
    getPrompt: (name, args, call) => getPrompt(deps, name, args, call),
    complete: (params, call) => complete(deps, params, call),
    packageOfUri: (uri) => deps.registry.resolveUri(uri)?.pkg.name,
  };
}
