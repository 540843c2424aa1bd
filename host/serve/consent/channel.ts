/**
 * How a request can reach the user for consent (docs/consent.md): a real `elicitation/create` on 2025-11-25
 * when the client declared form elicitation at initialize; an input_required result on 2026-07-28 when the
 * request's client capabilities declare it; otherwise none (CONSENT_REQUIRED with the CLI command).
 */
import { CLIENT_CAPABILITIES_META_KEY } from '@modelcontextprotocol/server';
import type { ClientCapabilities, ProtocolEra, Server, ServerContext } from '@modelcontextprotocol/server';
import type { ConsentChannel } from './call.ts';

/** Form elicitation declared: `elicitation: {}` (the pre-mode form) or `elicitation: { form: … }`. */
export function declaresFormElicitation(caps: ClientCapabilities | undefined): boolean {
  const e = caps?.elicitation as Record<string, unknown> | undefined;
  return typeof e === 'object' && e !== null && (e.form !== undefined || Object.keys(e).length === 0);
}

export function consentChannel(era: ProtocolEra, ctx: ServerContext, server: Server): ConsentChannel {
  if (era === 'legacy') {
    return declaresFormElicitation(server.getClientCapabilities()) ? { kind: 'elicit', elicit: (params, options) => ctx.mcpReq.elicitInput(params, options) } : { kind: 'none' };
  }
  const caps = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined;
  return declaresFormElicitation(caps) ? { kind: 'input-required' } : { kind: 'none' };
}
