/** `mcp-warden keygen --out PREFIX`: an ECDSA P-256 publisher key pair. */
import { resolve } from 'node:path';
import { HostError } from '../errors.ts';
import { generateKeyPairFiles } from '../signing/keys.ts';
import { parseFlags, runCommand, writeJson } from './cli-support.ts';
import type { CommandIO } from './io.ts';
import { PASSPHRASE_ENV, getPassphrase } from './passphrase.ts';

export const USAGE = `Usage: mcp-warden keygen --out PREFIX [--force] [--json]

Generates an ECDSA P-256 key pair for keyed signing: PREFIX.key (private, PKCS#8 PEM, mode 0600) and
PREFIX.pub (public, SPKI PEM: give it to your users for "mcp-warden trust add-key").
The private key is encrypted when ${PASSPHRASE_ENV} is set, or with the passphrase typed at the prompt
on a terminal (empty for none).

Options:
  --out PREFIX  path prefix of the two files (required)
  --force       replace existing files
  --json        machine-readable output
  --help        show this help
`;

const OPTIONS = { out: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' } } as const;

export function run(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, 'keygen', USAGE, argv, async (json) => {
    const { values, positionals } = parseFlags(argv, OPTIONS);
    if (!values.out || positionals.length > 0) throw new HostError('USAGE', 'expected --out PREFIX and no other argument');
    let passphrase: string | undefined;
    try {
      passphrase = await getPassphrase(io, { confirm: true });
    } catch (e) {
      throw new HostError('USAGE', (e as Error).message);
    }
    const r = await generateKeyPairFiles(resolve(io.cwd, values.out), { ...(passphrase ? { passphrase } : {}), force: values.force ?? false });
    if (json) writeJson(io, { ok: true, ...r });
    else {
      io.stdout.write(`private key: ${r.privateKeyFile}${r.encrypted ? ' (encrypted)' : ''}\npublic key:  ${r.publicKeyFile}\nkey id:      ${r.keyId}\n`);
      if (!r.encrypted) io.stderr.write(`mcp-warden keygen: the private key is NOT encrypted; keep it secret (set ${PASSPHRASE_ENV} to encrypt it)\n`);
    }
    return 0;
  });
}
