/**
 * Personal data replaced by placeholders (`[PHONE_1]`) before text leaves for a remote model, and
 * put back in what the model answers. Pure: no configuration, no I/O.
 */

/** An admin-defined kind of personal data (REDACT_PII_PATTERNS): its placeholder name and regular expression. */
export interface CustomPattern {
  name: string;
  source: string;
}

interface Detector {
  kind: string;
  pattern: RegExp;
  /** A match that only looks like the kind (a wrong checksum) is left alone. */
  valid?: (match: string) => boolean;
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** GB 11643: the 18th character of a resident ID is a checksum of the first 17 digits. */
export function validResidentId(id: string): boolean {
  if (!/^[1-9]\d{16}[\dXx]$/.test(id)) return false;
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  const sum = ID_WEIGHTS.reduce((total, weight, i) => total + weight * Number(id[i]), 0);
  return ID_CHECK[sum % 11] === id[17]!.toUpperCase();
}

/** The Luhn check every bank card number passes (UnionPay, Visa, Mastercard …). */
export function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const digitsOf = (text: string) => text.replace(/\D/g, '');

// Numbers are only taken whole: no digit (or letter, for codes like order numbers) right before or after.
const B = String.raw`(?<![\dA-Za-z])`;
const E = String.raw`(?![\dA-Za-z])`;

/** Earlier detectors win where two match the same characters (an ID card is not also a bank card). */
const DETECTORS: Detector[] = [
  { kind: 'EMAIL', pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g },
  { kind: 'ID_CARD', pattern: new RegExp(`${B}\\d{17}[\\dXx]${E}`, 'g'), valid: validResidentId },
  {
    kind: 'BANK_CARD',
    // Not after a +: that is an international phone number, which may pass Luhn by chance.
    pattern: new RegExp(`(?<![\\dA-Za-z+])(?:\\d{13,19}|\\d{4}(?:[ -]\\d{4}){2,3}(?:[ -]\\d{1,3})?)${E}`, 'g'),
    valid: (match) => luhn(digitsOf(match)),
  },
  {
    kind: 'PHONE',
    pattern: new RegExp(
      [
        // International: +country code, then groups: +44 20 7946 0958, +1 (415) 555-2671, +8613812345678.
        String.raw`\+\d{1,3}[ -]?(?:\(\d{1,4}\)[ -]?)?\d{1,4}(?:[ -]?\d{2,4}){1,4}${E}`,
        // Chinese mobile: 13812345678, 138-1234-5678, 138 1234 5678.
        String.raw`${B}1[3-9]\d(?:[ -]?\d{4}){2}${E}`,
        // Chinese landline with its area code set apart: 010-12345678, (0755) 8765 4321, 0571 87654321.
        String.raw`${B}(?:0\d{2,3}[ -]|\(0\d{2,3}\)\s?)\d{3,4}[ -]?\d{4}${E}`,
      ].join('|'),
      'g',
    ),
    valid: (match) => !match.startsWith('+') || (digitsOf(match).length >= 8 && digitsOf(match).length <= 15),
  },
];

/**
 * Full-width forms (１３８…, ＠, typed on Chinese keyboards) and the ideographic space read as their
 * ASCII selves, one code unit for one, so matches found here are at the same places in the original.
 */
function asciiFolded(text: string): string {
  return text.replace(/[\uff01-\uff5e\u3000]/g, (c) =>
    c === '\u3000' ? ' ' : String.fromCharCode(c.charCodeAt(0) - 0xfee0),
  );
}

export type RedactionCounts = Record<string, number>;

export interface Redaction {
  /** The texts with every personal value replaced; the same value gets the same placeholder in all of them. */
  texts: string[];
  /** How many distinct values of each kind were replaced (kinds only: never the values). */
  counts: RedactionCounts;
  /** Puts the original values back where the placeholders are (in a model's answer). */
  restore(text: string): string;
}

const PLACEHOLDER = /\[([A-Z][A-Z0-9_]*_\d+)\]/g;
/** The longest placeholder a stream may hold back while waiting for its end. */
const MAX_PLACEHOLDER = 48;

export interface Redactor {
  redact(texts: string[]): Redaction;
}

export function createRedactor(custom: readonly CustomPattern[] = []): Redactor {
  const detectors: Detector[] = [
    ...DETECTORS,
    ...custom.map(({ name, source }) => ({ kind: name, pattern: new RegExp(source, 'g') })),
  ];

  function spans(text: string): { start: number; end: number; kind: string }[] {
    const taken: { start: number; end: number; kind: string }[] = [];
    const ascii = asciiFolded(text);
    for (const detector of detectors) {
      for (const match of ascii.matchAll(detector.pattern)) {
        const start = match.index;
        const end = start + match[0].length;
        if (!match[0] || (detector.valid && !detector.valid(match[0]))) continue;
        if (taken.some((t) => start < t.end && t.start < end)) continue;
        taken.push({ start, end, kind: detector.kind });
      }
    }
    return taken.sort((a, b) => a.start - b.start);
  }

  return {
    redact(texts) {
      const byValue = new Map<string, string>();
      const values = new Map<string, string>();
      const counts: RedactionCounts = {};
      const out = texts.map((text) => {
        let result = '';
        let at = 0;
        for (const { start, end, kind } of spans(text)) {
          const value = text.slice(start, end);
          let placeholder = byValue.get(value);
          if (!placeholder) {
            counts[kind] = (counts[kind] ?? 0) + 1;
            placeholder = `[${kind}_${counts[kind]}]`;
            byValue.set(value, placeholder);
            values.set(placeholder, value);
          }
          result += text.slice(at, start) + placeholder;
          at = end;
        }
        return result + text.slice(at);
      });
      return {
        texts: out,
        counts,
        restore: (text) => text.replace(PLACEHOLDER, (whole) => values.get(whole) ?? whole),
      };
    },
  };
}

/**
 * Restores a streamed answer piece by piece. A placeholder may arrive split across pieces
 * (`[PHO` + `NE_1]`): a trailing `[…` that could still become one is held until it is complete.
 */
export function createStreamRestorer(restore: (text: string) => string) {
  let held = '';
  return {
    push(delta: string): string {
      held += delta;
      const open = held.lastIndexOf('[');
      const tail = open === -1 ? '' : held.slice(open);
      const partial = tail.length <= MAX_PLACEHOLDER && /^\[[A-Z0-9_]*$/.test(tail);
      const ready = partial ? held.slice(0, open) : held;
      held = partial ? tail : '';
      return restore(ready);
    },
    /** What is still held when the stream ends. */
    flush(): string {
      const rest = held;
      held = '';
      return restore(rest);
    },
  };
}

/** Whether a redaction replaced anything. */
export const redactedAny = (counts: RedactionCounts) => Object.keys(counts).length > 0;
