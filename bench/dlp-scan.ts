/**
 * DLP's scan (`scanText`, runtime/dlp) against the scanner before the fifth pass of issue 14 (the copy in
 * test/runtime/dlp/fixtures/reference-scanner), alternating in one process over four texts: the ~1.4 MB
 * JSON of 25 000 rows, bench/dlp.ts's ~100 KB result text (names, prices, dates, "2-3 days"), lowercase
 * prose (no candidate), and number-dense JSON. Every detector on, as the host's default policy plus
 * e-mail and phone would be. Prints the median ms per MB of each over the rounds, and checks the matches
 * are the same.
 *
 *   node bench/dlp-scan.ts [rounds]      (default 15)
 */
import { scanText } from '../runtime/dlp/index.ts';
import { scanText as referenceScan } from '../test/runtime/dlp/fixtures/reference-scanner/detectors.ts';
import { result100k } from './dlp.ts';
import { median } from './harness.ts';

const rows = JSON.stringify(Array.from({ length: 25_000 }, (_, i) => ({ id: i, name: `row-${i}`, total: i * 1.5, ok: i % 2 === 0 })));
const result = (result100k().content[0] as { text: string }).text;
const words = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'and', 'then', 'runs', 'away', 'from', 'home'];
let prose = '';
for (let i = 0; prose.length < 1 << 20; i++) prose += `${words[(i * 7) % words.length] as string}${i % 11 === 10 ? '. ' : ' '}`;
// Flat, as a text parsed from the worker's JSON is (a string built by += is a rope V8 reads more slowly).
prose = JSON.parse(JSON.stringify(prose)) as string;
const numbers = JSON.stringify(Array.from({ length: 40_000 }, (_, i) => [i * 7919, ((i * 37) % 10000) / 100, i * 123457, `${i % 97}-${i % 13}`]));
const TEXTS: [string, string][] = [['rows JSON', rows], ['100 KB result', result], ['prose', prose], ['number JSON', numbers]];
const all = (): boolean => true;

/** The floor: a bare loop reading every character once. */
function floor(text: string): number {
  let x = 0;
  for (let i = 0; i < text.length; i++) x = (x + text.charCodeAt(i)) | 0;
  return x === 0.5 ? 1 : 0;
}

function timeFloor(text: string): number {
  const reps = Math.max(1, Math.round((4 << 20) / text.length));
  const t = performance.now();
  for (let r = 0; r < reps; r++) floor(text);
  return ((performance.now() - t) / reps) * ((1 << 20) / text.length);
}

function time(scan: typeof scanText, text: string): number {
  const reps = Math.max(1, Math.round((4 << 20) / text.length));
  const t = performance.now();
  for (let r = 0; r < reps; r++) scan(text, all);
  return ((performance.now() - t) / reps) * ((1 << 20) / text.length);
}

const rounds = Number(process.argv[2] ?? 15);
for (const [name, text] of TEXTS) {
  if (JSON.stringify(scanText(text, all)) !== JSON.stringify(referenceScan(text, all))) throw new Error(`different matches on ${name}`);
  for (let w = 0; w < 5; w++) {
    time(scanText, text);
    time(referenceScan, text);
  }
}
const got = new Map<string, { now: number[]; before: number[]; floor: number[] }>(TEXTS.map(([n]) => [n, { now: [], before: [], floor: [] }]));
for (let r = 0; r < rounds; r++) {
  for (const [name, text] of TEXTS) {
    const g = got.get(name) as { now: number[]; before: number[]; floor: number[] };
    g.floor.push(timeFloor(text));
    if (r % 2 === 0) {
      g.before.push(time(referenceScan, text));
      g.now.push(time(scanText, text));
    } else {
      g.now.push(time(scanText, text));
      g.before.push(time(referenceScan, text));
    }
  }
}
for (const [name, text] of TEXTS) {
  const g = got.get(name) as { now: number[]; before: number[]; floor: number[] };
  const b = median(g.before);
  const n = median(g.now);
  process.stdout.write(`${name.padEnd(14)} ${(text.length / 1e6).toFixed(2)} MB  before ${b.toFixed(2)} ms/MB  now ${n.toFixed(2)} ms/MB  (${(b / n).toFixed(2)}×)  bare loop ${median(g.floor).toFixed(2)} ms/MB\n`);
}
