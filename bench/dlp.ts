/**
 * The extra cost of data-loss prevention on a tool's result: the host applies the package's DLP policy
 * (runtime/dlp, docs/dlp.md) to every result before it is sent. Measured in-process, as the host pays it:
 * the default policy over a ~100 KB CallToolResult of JSON text (records with names, numbers, dates,
 * identifiers: what a tool typically returns), nothing sensitive in it (the common case: no copy made).
 *
 *   node bench/dlp.ts            prints the median in µs
 */
import { DEFAULT_DLP_POLICY, dlpValue } from '../runtime/index.ts';
import type { Figure } from './harness.ts';
import { median } from './harness.ts';

/** A ~100 KB tool result of JSON text. */
export function result100k(): { content: { type: 'text'; text: string }[] } {
  const items: unknown[] = [];
  let i = 0;
  for (let size = 0; size < 100 * 1024; i++) {
    const item = { id: i, sku: `SKU-${(i * 7919) % 100000}`, name: `Item number ${i} of the catalogue`, price: ((i * 37) % 10000) / 100, updated: `2024-05-${String((i % 28) + 1).padStart(2, '0')}T10:00:00Z`, tags: ['blue', 'large', `batch ${i % 13}`], note: 'In stock; ships in 2-3 days. Call 555 for details, ref 12345.' };
    items.push(item);
    size += JSON.stringify(item).length + 1;
  }
  // Flat, as a result parsed from the sandbox's JSON is.
  const text = JSON.parse(JSON.stringify(JSON.stringify(items))) as string;
  return { content: [{ type: 'text', text }] };
}

/** Median µs of applying the default policy to a 100 KB result, one sample per round. */
export function dlpFigures(rounds: number, iterations: number): Figure[] {
  const result = result100k();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const times: number[] = [];
    for (let i = 0; i < iterations + 20; i++) {
      const t = performance.now();
      const out = dlpValue(DEFAULT_DLP_POLICY, result, 'result');
      const us = (performance.now() - t) * 1000;
      if (out.findings.length !== 0) throw new Error('the bench result is meant to hold nothing sensitive');
      if (i >= 20) times.push(us);
    }
    samples.push(median(times));
  }
  return [{ name: 'DLP on a 100 KB result (default policy), extra host time', unit: 'µs', better: 'lower', warden: samples, plain: [], target: '< 1000 µs' } as Figure];
}

if (import.meta.filename === process.argv[1]) {
  const [f] = dlpFigures(5, 200);
  process.stdout.write(`DLP on a 100 KB result (${JSON.stringify(result100k()).length} bytes): median ${median(f?.warden ?? []).toFixed(0)} µs\n`);
}
