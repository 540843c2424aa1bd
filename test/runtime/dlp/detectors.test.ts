import { describe, expect, it } from 'vitest';
import { DETECTORS, scanText } from '../../../runtime/dlp/index.ts';
import type { DetectorId } from '../../../runtime/dlp/index.ts';

const all = (): boolean => true;
/** The detectors that fire on `text` with every detector on, and the matched text. */
function found(text: string): [DetectorId, string][] {
  return scanText(text, all).map((m) => [m.detector, text.slice(m.start, m.end)]);
}

const b64 = (s: string): string => Buffer.from(s).toString('base64url');
const JWT = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64('{"sub":"1234567890"}')}.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U`;
const A36 = 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A';
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n-----END RSA PRIVATE KEY-----';

describe('scanText', () => {
  describe('finds each kind of sensitive data', () => {
    it.each<[string, DetectorId, string]>([
      ['card: Visa with spaces', 'card', 'pay 4111 1111 1111 1111 now'],
      ['card: Visa with dashes', 'card', 'pay 4111-1111-1111-1111.'],
      ['card: Visa compact', 'card', 'card=4012888888881881'],
      ['card: Mastercard', 'card', '5555555555554444'],
      ['card: Mastercard 2-series', 'card', '2223003122003222'],
      ['card: American Express 4-6-5', 'card', '3782 822463 10005'],
      ['card: Discover', 'card', '6011111111111117'],
      ['card: JCB', 'card', '(3530111333300000)'],
      ['card: after other numbers in the run', 'card', 'order 12 4111 1111 1111 1111'],
      ['ssn with dashes', 'ssn', 'SSN: 123-45-6789'],
      ['ssn with spaces', 'ssn', 'ssn 536 22 1234.'],
      ['iban: GB, grouped', 'iban', 'IBAN GB82 WEST 1234 5698 7654 32'],
      ['iban: DE, compact', 'iban', 'DE89370400440532013000'],
      ['iban: FR with a letter', 'iban', 'FR1420041010050500013M02606'],
      ['iban: NL', 'iban', 'to NL91ABNA0417164300.'],
      ['aws access key id', 'aws-access-key', 'key AKIAIOSFODNN7EXAMPLE'],
      ['aws temporary key id', 'aws-access-key', 'ASIAY34FZKBOKMUTVV7A'],
      ['github classic token', 'github-token', `token ghp_${A36}`],
      ['github oauth token', 'github-token', `gho_${A36}`],
      ['github server token', 'github-token', `ghs_${A36}`],
      ['github user token', 'github-token', `ghu_${A36}`],
      ['github fine-grained token', 'github-token', `github_pat_11ABCDEFG0${'x1Y2'.repeat(18)}`],
      ['gitlab token', 'gitlab-token', 'glpat-xYz12_34-abcdefghIJKL'],
      ['slack bot token', 'slack-token', 'xoxb-1234567890-0987654321-AbCdEfGhIjKl'],
      ['slack user token', 'slack-token', 'xoxp-1234567890-abcdefghij'],
      ['stripe live secret key', 'stripe-key', `sk_live_${'4eC39HqLyjWDarjtT1zdp7dc'}`],
      ['stripe restricted key', 'stripe-key', `rk_live_${'4eC39HqLyjWDarjtT1zdp7dcXY'}`],
      ['google api key', 'google-api-key', 'AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe'],
      ['jwt', 'jwt', `Authorization: Bearer ${JWT}`],
      ['pem private key', 'private-key', `key:\n${PEM}\nrest`],
      ['pem private key without its end', 'private-key', '-----BEGIN PRIVATE KEY-----\nMIIBOgIBAAJBAKj34'],
      ['email', 'email', 'write to alice.smith+x@mail.example.com today'],
      ['phone: international', 'phone', 'call +44 20 7946 0958'],
      ['phone: NANP', 'phone', 'call 415-555-2671'],
    ])('%s', (_what, detector, text) => {
      const got = found(text);
      expect(got.map(([d]) => d)).toEqual([detector]);
    });

    it('matches exactly the sensitive span', () => {
      expect(found('pay 4111 1111 1111 1111 now')).toEqual([['card', '4111 1111 1111 1111']]);
      expect(found(`x ${PEM} y`)).toEqual([['private-key', PEM]]);
      expect(found(`Bearer ${JWT}.`)).toEqual([['jwt', JWT]]);
      expect(found('IBAN GB82 WEST 1234 5698 7654 32.')).toEqual([['iban', 'GB82 WEST 1234 5698 7654 32']]);
    });

    it('finds several in one text, in order', () => {
      expect(found(`a 4111111111111111 b 123-45-6789 c AKIAIOSFODNN7EXAMPLE`).map(([d]) => d)).toEqual(['card', 'ssn', 'aws-access-key']);
    });
  });

  describe('ignores near misses', () => {
    it.each<[string, string]>([
      ['a 16-digit number that fails Luhn', '4111 1111 1111 1112'],
      ['a Luhn-valid 16-digit number with no issuer prefix', '1234567812345670'],
      ['a 13-digit timestamp', '1700000000000'],
      ['a card number glued to letters', 'x4111111111111111'],
      ['a card number inside a longer number', '94111111111111111123'],
      ['a card number with mixed separators', '4111 1111-1111 1111'],
      ['an SSN with area 000', '000-12-3456'],
      ['an SSN with area 666', '666-12-3456'],
      ['an SSN with area 9xx', '912-34-5678'],
      ['an SSN with group 00', '123-00-4567'],
      ['an SSN with serial 0000', '123-45-0000'],
      ['an SSN published in advertising', '078-05-1120'],
      ['nine plain digits', '123456789'],
      ['an IBAN with a bad checksum', 'GB82 WEST 1234 5698 7654 33'],
      ['an IBAN one character short', 'DE8937040044053201300'],
      ['an IBAN of an unknown country', 'XX82WEST12345698765432'],
      ['an AWS key id one character short', 'AKIAIOSFODNN7EXAMPL'],
      ['an AWS-like id in lower case', 'akiaiosfodnn7example'],
      ['a GitHub-like token one character short', `ghp_${A36.slice(1)}`],
      ['a GitHub-like token with an unknown prefix', `ghx_${A36}`],
      ['a GitLab-like token too short', 'glpat-abc'],
      ['a Slack-like token with an unknown type', 'xoxz-1234567890-abcdefghij'],
      ['a Stripe test key', `sk_test_${'4eC39HqLyjWDarjtT1zdp7dc'}`],
      ['a Google-like key one character short', 'AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQ'],
      ['a JWT-looking string whose header is not JSON', `${b64('{"alg')}.${b64('{"sub":"1"}')}.sig`],
      ['a JWT-looking string whose header is a JSON array', `${b64('["a"]')}.${b64('{}')}.sig`],
      ['a JWT-looking string with two parts', `${b64('{"alg":"none"}')}.`],
      ['a PEM public key', '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----'],
      ['a PEM certificate', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'],
      ['an address without a dot in its domain', 'alice@localhost'],
      ['an @ with no local part', 'see @example.com'],
      ['a short international number', '+44 20 79'],
      ['plain prose and numbers', 'In 2024, 12 of 4096 runs took 3.14 s; version 1.2.3-beta, port 8080.'],
    ])('%s', (_what, text) => {
      expect(found(text)).toEqual([]);
    });
  });

  describe('looks only for the detectors asked for', () => {
    it('skips a detector that is off', () => {
      expect(scanText('4111111111111111 alice@example.com', (d) => d === 'email').map((m) => m.detector)).toEqual(['email']);
    });
    it('knows every detector it reports', () => {
      expect(new Set(DETECTORS).size).toBe(13);
    });
  });

  // A quadratic (or backtracking) scanner would not finish these: each is a megabyte or more of text
  // built to make a naive scanner re-read what it has read. No clock is read: the test only has to end.
  describe('stays linear on hostile input', () => {
    const MB = 1 << 20;
    it.each<[string, string]>([
      ['one long run of digits', '4'.repeat(MB)],
      ['digits separated by spaces', '4 '.repeat(MB / 2)],
      ['digits separated by dashes', '41-'.repeat(MB / 3)],
      ['groups that almost make SSNs', '123-45-678 '.repeat(MB / 11)],
      ['an endless JWT header', `eyJ${'a'.repeat(MB)}`],
      ['JWT-like headers over and over', 'eyJhbGc.'.repeat(MB / 8)],
      ['JWT-like parts joined by dashes', 'eyJa-'.repeat(MB / 5)],
      ['Slack-like prefixes joined by dashes', 'xoxb-'.repeat(MB / 5)],
      ['GitHub-like prefixes', 'ghp_'.repeat(MB / 4)],
      ['AWS-like prefixes', 'AKIA'.repeat(MB / 4)],
      ['IBAN-like groups', 'GB82 '.repeat(MB / 5)],
      ['@ after @', 'a@'.repeat(MB / 2)],
      ['a long local part', `${'a.'.repeat(MB / 2)}@example.com`],
      ['a long domain', `a@${'b.'.repeat(MB / 2)}`],
      ['PEM begin markers without an end', '-----BEGIN RSA PRIVATE KEY-----'.repeat(MB / 31)],
      ['PEM begin markers with another end', `${'-----BEGIN A PRIVATE KEY-----x'.repeat(MB / 30)}-----END B PRIVATE KEY-----`],
      ['plus signs before digits', '+1 '.repeat(MB / 3)],
    ])('%s', (_what, text) => {
      const enabled = scanText(text, all);
      expect(Array.isArray(enabled)).toBe(true);
    });
  });
});
