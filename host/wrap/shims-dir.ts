/**
 * Where the shims are: host/wrap/shims/ beside this file in the source tree, and the same place under
 * dist/ after the build (scripts/copy-bootstrap.ts copies them there).
 */
import { join } from 'node:path';

export const SHIMS_DIR = join(import.meta.dirname, 'shims');
