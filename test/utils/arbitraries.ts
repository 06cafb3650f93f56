import fc from 'fast-check';
import { MAX_ID } from './property-checks';

/** The fast-check generators the property specs (test/properties/) share. */

export const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
/** Any Unicode scalar value. */
export const anyCodePoint = fc
  .integer({ min: 0, max: 0x10ffff })
  .filter((c) => c < 0xd800 || c > 0xdfff)
  .map((c) => String.fromCodePoint(c));
export const trickyChar = fc.constantFrom(
  ' ',
  '\t',
  '\n',
  '\r',
  '\u00a0',
  '\u200b',
  '\ufeff',
  '\u2028',
  '\u3000',
  '\0',
  '%',
  '"',
  '\\',
  '<',
  '>',
  "'",
  '&',
  ';',
  '=',
  '+',
  '/',
  '?',
  '#',
  '.',
  '@',
  '𝄞',
  '😀',
  'é',
  'e\u0301',
  'İ',
  'ß',
  'ﬁ',
  'Ω',
  '١',
  '１',
  '\u202e',
);
/** One character for text fields: ASCII mostly, any code point, and tricky ones. */
export const unicodeUnit = fc.oneof(
  { arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }), weight: 6 },
  { arbitrary: anyCodePoint, weight: 3 },
  { arbitrary: trickyChar, weight: 3 },
);
/** Text, now and then with a lone surrogate (not Unicode: JSON can carry it, UTF-8 cannot) somewhere in it. */
export const unicodeString = (maxLength: number, minLength = 0): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: fc.string({ unit: unicodeUnit, minLength, maxLength }), weight: 8 },
    {
      arbitrary: fc
        .tuple(
          fc.string({
            unit: unicodeUnit,
            minLength: Math.max(0, minLength - 1),
            maxLength: Math.max(0, maxLength - 1),
          }),
          loneSurrogate,
          fc.nat(),
        )
        .map(([text, lone, at]) => text.slice(0, at % (text.length + 1)) + lone + text.slice(at % (text.length + 1))),
      weight: 1,
    },
  );

/** Characters Node lets through in a header value (tab, printable ASCII, Latin-1). */
export const headerChar = fc
  .oneof(
    { arbitrary: fc.integer({ min: 0x20, max: 0x7e }), weight: 10 },
    { arbitrary: fc.constant(0x09), weight: 1 },
    { arbitrary: fc.integer({ min: 0x80, max: 0xff }), weight: 1 },
  )
  .map((c) => String.fromCharCode(c));
export const headerString = (maxLength: number, minLength = 0) => fc.string({ unit: headerChar, minLength, maxLength });

/** JSON text for a value, including things JSON.stringify would never write. */
export const jsonValueText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), weight: 4 },
  { arbitrary: unicodeString(40).map((s) => JSON.stringify(s)), weight: 4 },
  { arbitrary: fc.stringMatching(/^-?[1-9][0-9]{15,400}(\.[0-9]{1,50})?([eE][+-]?[0-9]{1,4})?$/), weight: 2 },
  {
    arbitrary: fc.constantFrom(
      'null',
      'true',
      'false',
      '[]',
      '{}',
      '""',
      '" "',
      '0',
      '-0',
      '1',
      '2',
      '3',
      '-1',
      '1.5',
      '1e400',
      '-1e400',
      '1e-400',
      '2147483647',
      '2147483648',
      '9007199254740993',
      '"1"',
      '"2"',
      '"abc"',
      '[1]',
      '["1"]',
      '{"a":1}',
      '"\\u0000"',
      '"\\ud800"',
      '"\\udc00\\ud800"',
      '"correct horse battery"',
      '"user@example.com"',
      '"+1 555 0100"',
      '"Ada"',
    ),
    weight: 4,
  },
  { arbitrary: fc.integer({ min: 1, max: 300 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`), weight: 1 },
  { arbitrary: fc.integer({ min: 1, max: 300 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`), weight: 1 },
  { arbitrary: fc.integer({ min: 1000, max: 120_000 }).map((n) => JSON.stringify('x'.repeat(n))), weight: 1 },
);

export const FIELD_NAMES = [
  'name',
  'phone',
  'email',
  'password',
  'receiver_id',
  'message',
  'current_password',
  'new_password',
  'return_token',
];
export const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'id',
  'is_active',
  'email_verified',
  'user_id',
  'created_at',
  'password_hash',
  '',
];
export const bodyKey = fc.oneof(
  { arbitrary: fc.constantFrom(...FIELD_NAMES), weight: 8 },
  { arbitrary: fc.constantFrom(...HOSTILE_KEYS), weight: 2 },
  { arbitrary: unicodeString(12), weight: 1 },
);

/** A JSON object written by hand: real field names, arbitrary values, duplicate keys allowed. */
export const recordBodyText = fc
  .array(fc.tuple(bodyKey, jsonValueText), { maxLength: 8 })
  .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);

/** Any JSON body text (undefined: no body at all). */
export const anyJsonBody: fc.Arbitrary<string | undefined> = fc.oneof(
  { arbitrary: recordBodyText, weight: 6 },
  { arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)), weight: 2 },
  { arbitrary: fc.object({ maxDepth: 3 }).map((v) => JSON.stringify(v)), weight: 1 },
  {
    arbitrary: fc
      .anything({
        maxDepth: 3,
        withBoxedValues: true,
        withMap: true,
        withSet: true,
        withSparseArray: true,
        withNullPrototype: true,
        withDate: true,
      })
      .map((v) => JSON.stringify(v) as string | undefined),
    weight: 1,
  },
  { arbitrary: jsonValueText, weight: 1 },
);

export const numericInvalid = fc.oneof(
  fc.constantFrom(
    '0',
    '00',
    '-0',
    '-1',
    '1.5',
    '1.0',
    '1e3',
    '1E2',
    '0x10',
    '0b1',
    '0o7',
    '+1',
    ' 1',
    '1 ',
    '1_000',
    '1,5',
    'Infinity',
    'NaN',
    '2147483648',
    '99999999999',
    '9007199254740993',
    '１',
    '١',
    '¹',
    '1\u0000',
    '.5',
    '5.',
    '--1',
    '1-',
    '+0',
    '%31',
  ),
  fc.integer({ min: -(2 ** 53), max: 0 }).map(String),
  fc.integer({ min: MAX_ID + 1, max: Number.MAX_SAFE_INTEGER }).map(String),
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .filter((d) => !Number.isInteger(d))
    .map(String),
  fc.tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: -5, max: 5 })).map(([m, e]) => `${m}e${e}`),
);
export const anySegment = fc
  .oneof(
    { arbitrary: unicodeString(60, 1), weight: 4 },
    { arbitrary: numericInvalid, weight: 4 },
    { arbitrary: fc.integer({ min: 1, max: MAX_ID }).map(String), weight: 2 },
    { arbitrary: fc.integer({ min: 1, max: 30 }).map(String), weight: 2 },
    {
      arbitrary: fc
        .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 999 }))
        .map(([z, n]) => '0'.repeat(z) + n),
      weight: 1,
    },
    {
      arbitrary: fc
        .tuple(fc.constantFrom('9', 'a', '%', 'é', '𝄞', '%25', '%2F'), fc.integer({ min: 100, max: 2000 }))
        .map(([s, n]) => s.repeat(n)),
      weight: 1,
    },
    { arbitrary: fc.stringMatching(/^(%[0-9A-Fa-f]{2}|[%A-Za-z0-9])+$/), weight: 2 },
  )
  // '.' and '..' are path steps, not values; and at most 2000 UTF-8 bytes (6 kB percent-encoded),
  // so a request line stays inside Node's 16 kB header limit (past it Node answers 431 itself).
  .filter((s) => s !== '.' && s !== '..' && Buffer.byteLength(s, 'utf8') <= 2000);
