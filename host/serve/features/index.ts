/**
 * The host's feature handlers: resources, resource templates, prompts and completions served from packages.
 * PLACEHOLDER (DESIGN9.md §4): serves nothing; the CONTENT helper's implementation replaces this file.
 */
import type { Sandbox } from '../../../runtime/index.ts';
import type { Audit } from '../audit.ts';
import type { Logger } from '../logger.ts';
import type { Redactor } from '../redact.ts';
import type { Registry } from '../registry.ts';
import { WireError } from '../tool-result.ts';
import type { CallContext, Features } from './call-context.ts';

export type { CallContext, Features };

export interface FeatureDeps {
  readonly registry: Registry;
  readonly sandbox: Sandbox;
  readonly audit: Audit;
  readonly logger: Logger;
  readonly redact: Redactor;
}

export function createFeatures(_deps: FeatureDeps): Features {
  return {
    listResources: () => [],
    listResourceTemplates: () => [],
    readResource: async (uri) => {
      throw new WireError(-32002, 'Resource not found', { uri });
    },
    listPrompts: () => [],
    getPrompt: async (name) => {
      throw new WireError(-32602, `Unknown prompt: ${name.slice(0, 128)}`);
    },
    complete: async () => {
      throw new WireError(-32602, 'Unknown prompt or resource template');
    },
    packageOfUri: () => undefined,
  };
}
