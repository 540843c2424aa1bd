/** Lock entries for packages copied into a home by hand (serve tests that do not go through install). */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sriSha512 } from '../../host/home/file-digests.ts';

/** The per-file digests install would record for the files now in `dir`. */
export function digestTree(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, digestTree(dir, rel));
    else out[rel] = sriSha512(readFileSync(join(dir, rel)));
  }
  return out;
}
