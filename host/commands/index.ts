/**
 * The command table of the CLI. Each command's module loads only when it runs, so `mcp-warden serve`
 * does not pay for the signing libraries. Add a command with one line.
 */
import type { Command } from './io.ts';

export const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: () => import('./serve.ts'),
};

/** One line per command for --help. */
export const SUMMARIES: Record<string, string> = {
  serve: 'serve installed packages (and --dev ones) to an MCP client over stdio',
};
