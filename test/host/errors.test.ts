import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOST_ERROR_CODES } from '../../host/errors.ts';

// docs/errors.md is the one table of codes: a host code added in host/errors.ts must be documented there.
const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'errors.md'), 'utf8');
const documented = new Set([...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));

describe('docs/errors.md', () => {
  it.each([...HOST_ERROR_CODES])('documents the host code %s', (code) => {
    expect(documented.has(code)).toBe(true);
  });
});
