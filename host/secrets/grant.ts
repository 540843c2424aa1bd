/**
 * The secrets in each package's grant: what its manifest declares ∩ the values the user provided
 * (docs/secrets.md). A declared secret without a value is not granted (a placeholder naming it is
 * SECRET_NOT_BOUND at the fetch); a value for a name the package does not declare is never given to it.
 */
import { parseSecretBinding } from '../../runtime/index.ts';
import type { GrantedSecret, Grant, SecretDeclaration } from '../../runtime/index.ts';
import type { SecretValues } from './sources.ts';

export function withSecrets<P extends { readonly name: string; readonly grant: Grant; readonly secrets?: Readonly<Record<string, SecretDeclaration>> }>(packages: readonly P[], values: SecretValues): P[] {
  return packages.map((p) => {
    const granted: GrantedSecret[] = [];
    for (const [name, decl] of Object.entries(p.secrets ?? {})) {
      const value = values.valueFor(p.name, name);
      if (value !== undefined && value !== '') granted.push({ ...parseSecretBinding(name, decl), value });
    }
    return granted.length === 0 ? p : { ...p, grant: { ...p.grant, secrets: { secrets: granted } } };
  });
}
