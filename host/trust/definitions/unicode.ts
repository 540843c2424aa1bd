/**
 * Character classes for the definition checks, decided one code point at a time (linear, no regular
 * expression runs over package text here): hidden characters, bidirectional controls, and Latin
 * look-alikes from Cyrillic and Greek.
 */

/** Bidirectional embeddings, overrides, isolates and marks: they reorder what the user sees. */
export function isBidi(cp: number): boolean {
  return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp === 0x200e || cp === 0x200f || cp === 0x061c;
}

/** Tag characters (U+E0000–E007F): invisible, yet read by models as ASCII. */
export function isTag(cp: number): boolean {
  return cp >= 0xe0000 && cp <= 0xe007f;
}

/** Zero-width and other invisible format characters (ZWJ is judged by its neighbours: see hiddenAt). */
export function isInvisible(cp: number): boolean {
  return (
    cp === 0x200b || cp === 0x200c || cp === 0x200d || cp === 0x2060 || cp === 0xfeff || cp === 0x180e || cp === 0x00ad ||
    (cp >= 0x2061 && cp <= 0x2064) || cp === 0x034f || cp === 0x115f || cp === 0x1160 || cp === 0x3164 || cp === 0xffa0 ||
    (cp >= 0xe0100 && cp <= 0xe01ef) // variation selectors 17–256: no visible use in text
  );
}

/** C0 and C1 controls other than tab, line feed and carriage return (terminal escapes among them). */
export function isControl(cp: number): boolean {
  return (cp < 0x20 && cp !== 0x09 && cp !== 0x0a && cp !== 0x0d) || (cp >= 0x7f && cp <= 0x9f);
}

const PICTOGRAPHIC = /^\p{Extended_Pictographic}$/u;
/** An emoji (one code point), so a ZWJ between two of them is an emoji sequence, not a hiding place. */
export function isPictographic(ch: string | undefined): boolean {
  return ch !== undefined && PICTOGRAPHIC.test(ch);
}

/** Whether a code point is hidden or deceptive in displayed text (anything `visible` spells out). */
export function needsEscape(cp: number): boolean {
  return isBidi(cp) || isTag(cp) || isInvisible(cp) || isControl(cp) || cp === 0x2028 || cp === 0x2029;
}

/** Cyrillic and Greek letters drawn like Latin ones. */
const LOOKALIKES = new Set(
  [...'аеорсухіјѕԁԛԝһӏԍАВЕКМНОРСТХІЈЅԌԚԜҮ', ...'οανρτικΑΒΕΖΗΙΚΜΝΟΡΤΥΧϲϳ'].map((c) => c.codePointAt(0) as number),
);
export function isLookalike(cp: number): boolean {
  return LOOKALIKES.has(cp);
}

const LATIN = /^\p{Script=Latin}$/u;
export function isLatinLetter(ch: string): boolean {
  return LATIN.test(ch);
}

const LETTER = /^[\p{L}\p{M}\p{N}_-]$/u;
export function isWordChar(ch: string): boolean {
  return LETTER.test(ch);
}

/** The text with every hidden or deceptive character spelled out as <U+XXXX>, bounded. */
export function visible(text: string, max = 120): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    out += needsEscape(cp) || isLookalike(cp) ? `<U+${cp.toString(16).toUpperCase().padStart(4, '0')}>` : ch;
    if (out.length >= max) return `${out.slice(0, max)}…`;
  }
  return out;
}
