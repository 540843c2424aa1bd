import { describe, expect, it } from 'vitest';
import { DEFAULT_DLP_POLICY, DETECTORS, scanText } from '../../../runtime/dlp/index.ts';
import type { DetectorId } from '../../../runtime/dlp/index.ts';
import { scanText as referenceScan } from './fixtures/reference-scanner/detectors.ts';
import { prng } from '../../helpers/prng.ts';

// The scanner was rewritten for speed (docs/performance-history.md, "Fifth pass of issue 14: DLP scan"); the
// matches must stay exactly those of the scanner before it (the fixture), on every text and detector set.

const b64 = (s: string): string => Buffer.from(s).toString('base64url');
const JWT = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64('{"sub":"1234567890"}')}.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U`;
const A36 = 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A';

/** A Luhn-valid card number of `len` digits starting with `prefix`. */
function card(prefix: string, len: number, rnd: () => number): string {
  let d = prefix;
  while (d.length < len - 1) d += String(Math.floor(rnd() * 10));
  for (let c = 0; c < 10; c++) {
    const x = d + String(c);
    let sum = 0;
    for (let i = 0; i < x.length; i++) {
      let v = x.charCodeAt(x.length - 1 - i) - 48;
      if (i % 2 === 1) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
      sum += v;
    }
    if (sum % 10 === 0) return x;
  }
  return d;
}

const grouped = (digits: string, sep: string): string => digits.replace(/(\d{4})(?=\d)/g, `$1${sep}`);

const PIECES = [
  ' ', ' ', '  ', '-', '+', '@', '.', '_', ',', ':', '"', '{', '}', '\n', 'é', '€', '😀', 'Ω',
  'a', 'b', 'e', 'g', 'x', 's', 'r', 'k', 'Z', 'A', 'B', 'D', 'E', 'G', 'N', 'X',
  '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '12', '123', '4111', '2024-05-01', '2-3', '555',
  'eyJ', 'eyJhbGciOiJIUzI1NiJ9', 'AKIA', 'ASIA', 'AIza', 'ghp_', 'gho_', 'github_pat_', 'glpat-', 'xoxb-', 'xoxp-', 'sk_live_', 'rk_live_', 'k_live_',
  '-----BEGIN RSA PRIVATE KEY-----', '-----END RSA PRIVATE KEY-----', '-----BEGIN PRIVATE KEY-----', '-----END ', '-----BEGIN ', 'PRIVATE KEY',
  'DE89 3704 0044 0532 0130 00', 'DE89370400440532013000', 'GB82 WEST 1234 5698 7654 32', 'NL91ABNA0417164300', 'GB82', 'DE89 ',
  '123-45-6789', '536 22 1234', '078-05-1120', '415-555-2671', '+44 20 7946 0958', '+1 ',
  'alice.smith+x@mail.example.com', 'a@b.co', '@example.com', 'mail.', 'com',
  A36, JWT, 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5AaB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A',
];

function randomText(rnd: () => number): string {
  const parts: string[] = [];
  const n = 1 + Math.floor(rnd() * 40);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (r < 0.06) {
      const c = card(['4', '51', '2221', '34', '37', '6011', '65', '3530', '50', '1'][Math.floor(rnd() * 10)] as string, 13 + Math.floor(rnd() * 7), rnd);
      parts.push(rnd() < 0.5 ? c : grouped(c, rnd() < 0.5 ? ' ' : '-'));
    } else if (r < 0.12) {
      let d = '';
      const len = 1 + Math.floor(rnd() * 24);
      for (let j = 0; j < len; j++) d += String(Math.floor(rnd() * 10));
      parts.push(d);
    } else parts.push(PIECES[Math.floor(rnd() * PIECES.length)] as string);
  }
  return parts.join('');
}

const ALL = (): boolean => true;
const SUBSETS: [string, (d: DetectorId) => boolean][] = [
  ['every detector', ALL],
  ['no detector', () => false],
  ['the default policy', (d) => DEFAULT_DLP_POLICY[d] !== 'off'],
  ...DETECTORS.map((id): [string, (d: DetectorId) => boolean] => [`only ${id}`, (d) => d === id]),
  ...DETECTORS.map((id): [string, (d: DetectorId) => boolean] => [`all but ${id}`, (d) => d !== id]),
];

function same(text: string): void {
  for (const [what, want] of SUBSETS) {
    const got = scanText(text, want);
    const ref = referenceScan(text, want);
    if (JSON.stringify(got) !== JSON.stringify(ref)) expect({ what, text, got }).toEqual({ what, text, got: ref });
  }
}

/** The strings of the scanner's own tests (test/runtime/dlp/detectors.test.ts), the linear ones shortened. */
const CORPUS = [
  'pay 4111 1111 1111 1111 now', 'pay 4111-1111-1111-1111.', 'card=4012888888881881', '5555555555554444', '2223003122003222',
  '3782 822463 10005', '6011111111111117', '(3530111333300000)', 'order 12 4111 1111 1111 1111', 'SSN: 123-45-6789', 'ssn 536 22 1234.',
  'IBAN GB82 WEST 1234 5698 7654 32', 'DE89370400440532013000', 'FR1420041010050500013M02606', 'to NL91ABNA0417164300.',
  'key AKIAIOSFODNN7EXAMPLE', 'ASIAY34FZKBOKMUTVV7A', `token ghp_${A36}`, `gho_${A36}`, `ghs_${A36}`, `ghu_${A36}`,
  `github_pat_11ABCDEFG0${'x1Y2'.repeat(18)}`, 'glpat-xYz12_34-abcdefghIJKL', 'xoxb-1234567890-0987654321-AbCdEfGhIjKl',
  'xoxp-1234567890-abcdefghij', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'rk_live_4eC39HqLyjWDarjtT1zdp7dcXY',
  'AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe', `Authorization: Bearer ${JWT}`, `Bearer ${JWT}.`,
  'key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\nrest',
  '-----BEGIN PRIVATE KEY-----\nMIIBOgIBAAJBAKj34', 'write to alice.smith+x@mail.example.com today', 'call +44 20 7946 0958', 'call 415-555-2671',
  'a 4111111111111111 b 123-45-6789 c AKIAIOSFODNN7EXAMPLE', '4111 1111 1111 1112', '1234567812345670', '1700000000000',
  'x4111111111111111', '94111111111111111123', '4111 1111-1111 1111', '000-12-3456', '666-12-3456', '912-34-5678', '123-00-4567',
  '123-45-0000', '078-05-1120', '123456789', 'GB82 WEST 1234 5698 7654 33', 'DE8937040044053201300', 'XX82WEST12345698765432',
  'AKIAIOSFODNN7EXAMPL', 'akiaiosfodnn7example', `ghp_${A36.slice(1)}`, `ghx_${A36}`, 'glpat-abc', 'xoxz-1234567890-abcdefghij',
  'sk_test_4eC39HqLyjWDarjtT1zdp7dc', 'AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQ', `${b64('{"alg')}.${b64('{"sub":"1"}')}.sig`,
  `${b64('["a"]')}.${b64('{}')}.sig`, `${b64('{"alg":"none"}')}.`, '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----',
  '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', 'alice@localhost', 'see @example.com', '+44 20 79',
  'In 2024, 12 of 4096 runs took 3.14 s; version 1.2.3-beta, port 8080.', '4111111111111111 alice@example.com',
  '4'.repeat(5000), '4 '.repeat(2500), '41-'.repeat(1700), '123-45-678 '.repeat(500), `eyJ${'a'.repeat(5000)}`, 'eyJhbGc.'.repeat(600),
  'eyJa-'.repeat(1000), 'xoxb-'.repeat(1000), 'ghp_'.repeat(1000), 'AKIA'.repeat(1000), 'GB82 '.repeat(1000), 'a@'.repeat(2500),
  `${'a.'.repeat(2500)}@example.com`, `a@${'b.'.repeat(2500)}`, '-----BEGIN RSA PRIVATE KEY-----'.repeat(100),
  `${'-----BEGIN A PRIVATE KEY-----x'.repeat(100)}-----END B PRIVATE KEY-----`, '+1 '.repeat(1500), '',
];

describe('the rewritten scanner finds exactly what the scanner before it found', () => {
  it('on the strings of the scanner tests, with every detector set', () => {
    for (const text of CORPUS) same(text);
  });

  it('on 4000 random strings rich in triggers, with every detector set', () => {
    const rnd = prng(14);
    for (let i = 0; i < 4000; i++) same(randomText(rnd));
  });

  it('on random strings of single characters near the triggers', () => {
    const rnd = prng(97);
    const chars = '0123456789  --+@._AaBbEeGgKkXxSsRrZzJyIhp_\né€';
    for (let i = 0; i < 2000; i++) {
      let t = '';
      const len = Math.floor(rnd() * 60);
      for (let j = 0; j < len; j++) t += chars[Math.floor(rnd() * chars.length)] as string;
      same(t);
    }
  });

  it('on JSON of rows, records and numbers like a tool result', () => {
    const rows = JSON.stringify(Array.from({ length: 300 }, (_, i) => ({ id: i, name: `row-${i}`, total: i * 1.5, ok: i % 2 === 0 })));
    const nums = JSON.stringify(Array.from({ length: 300 }, (_, i) => [i * 7919, (i * 37) % 10000, i * 123456789, `${i}-${i + 1}`, 4111111111111111 + i]));
    const rec = JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ sku: `SKU-${(i * 7919) % 100000}`, name: `Item number ${i}`, updated: `2024-05-0${(i % 9) + 1}T10:00:00Z`, note: 'ships in 2-3 days. Call 555 for details, ref 12345.' })));
    for (const t of [rows, nums, rec]) same(t);
  });
});
