/**
 * vitest globalSetup: builds dist/ once, before any test file starts, if it is missing or older than the
 * sources (`npm test` has already built it). Test files that run the CLI then find it fresh, so they never
 * wait on each other for a build.
 */
import { ensureBuilt } from './host.ts';

export function setup(): void {
  ensureBuilt();
}
