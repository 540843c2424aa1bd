/**
 * One canonical JSON text for everything the host digests or MACs (audit argument digests, lock-entry
 * seals): object keys sorted at every level, no whitespace, members JSON drops (undefined, functions)
 * dropped — so a value and the same value read back from a JSON file give the same text.
 */

/** JSON with object keys sorted at every level: the same value always gives the same text. Pure. */
export function canonicalJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) => {
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        // No prototype: an own "__proto__" key stays a key (assigning it to a plain object sets its prototype).
        const sorted = Object.create(null) as Record<string, unknown>;
        for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
        return sorted;
      }
      return v;
    }) ?? 'null'
  );
}
