/** Readable lines for the organisation policy (`mcp-warden policy show|check`). Pure. */
import { fsGrantToStrings, netGrantToStrings } from '../../runtime/index.ts';
import type { Limits } from '../../runtime/index.ts';
import type { PolicyRefusal } from './check.ts';
import type { PolicyLayer, PolicySigner } from './parse.ts';

function signerText(s: PolicySigner): string {
  const scope = s.scope ? ` for ${s.scope.join(', ')}` : '';
  const name = s.name ? `${s.name}: ` : '';
  if (s.kind === 'key') return `${name}key ${s.keyId}${scope}`;
  if (s.kind === 'identity') return `${name}${s.identity} (issuer ${s.issuer})${scope}`;
  return `${name}provenance ${s.repository}${s.workflow ? ` ${s.workflow}` : ' (any workflow)'} (issuer ${s.issuer})${scope}`;
}

/** One policy file as indented lines. */
export function describeLayer(layer: PolicyLayer): string[] {
  const out = [`policy ${layer.source}`];
  if (layer.signers) out.push(layer.signers.length === 0 ? '  signers: none allowed' : '  signers:', ...layer.signers.map((s) => `    ${signerText(s)}`));
  if (layer.blockedPackages.length > 0) out.push(`  blocked packages: ${layer.blockedPackages.join(', ')}`);
  if (layer.blockedDigests.length > 0) out.push(`  blocked tarballs: ${layer.blockedDigests.map((d) => `${d.slice(0, 24)}…`).join(', ')}`);
  if (layer.net) out.push(`  network at most: ${netGrantToStrings(layer.net).join(', ') || 'none'}`);
  if (layer.fs) out.push(`  files at most: ${layer.fs.kind === 'rules' ? fsGrantToStrings(layer.fs.grant).join(', ') || 'none' : layer.fs.kind === 'read' ? 'read-only' : 'none'}`);
  if (layer.secrets !== undefined) out.push(`  secrets: ${layer.secrets === false ? 'none' : layer.secrets.join(', ') || 'none'}`);
  const limits = Object.entries(layer.limits);
  if (limits.length > 0) out.push(`  maximum limits: ${limits.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (layer.strictDefinitions) out.push('  strict definition checks');
  if (out.length === 1) out.push('  (restricts nothing)');
  return out;
}

/** A refusal as one line. */
export function describeRefusal(r: PolicyRefusal): string {
  return `${r.code}: ${r.detail} (policy ${r.source})`;
}

/** The limits the policy lowered: "memoryMb 128 → 32". */
export function describeClamped(before: Limits, after: Limits): string[] {
  return (Object.keys(before) as (keyof Limits)[]).filter((k) => after[k] < before[k]).map((k) => `${k} ${before[k]} → ${after[k]}`);
}
