/**
 * Where the shipped CLI lives, relative to the checkout: the bundle scripts/bundle-host.ts writes and
 * bin/mcp-warden.cjs loads (that launcher is plain CommonJS and spells the same path; a test checks they
 * agree). Test helpers, the demo and the benchmarks spawn this file, so they run what ships.
 */
export const CLI_BUNDLE = ['dist', 'host', 'bundle', 'cli.js'] as const;
