import {
  EMAIL_COMPATIBILITY,
  EMAIL_INVISIBLE,
  EMAIL_MIXED_SCRIPT,
  emailLookProblem,
  isRestrictedScript,
  normalizeEmail,
} from './email';

describe('normalizeEmail', () => {
  it.each([
    ['  Ada@Example.COM\t', 'ada@example.com'],
    ['jose\u0301@example.com', 'jos\u00e9@example.com'], // NFD é → NFC é
    ['JOSE\u0301@EXAMPLE.COM', 'jos\u00e9@example.com'],
    ['\uff41da@example.com', 'ada@example.com'], // fullwidth ａ
    ['\uff21\uff24\uff21\uff20\uff45xample.com', 'ada@example.com'], // fullwidth ADA＠
    ['\uff76\uff9e@example.jp', '\u30ac@example.jp'], // halfwidth ｶﾞ → ガ (composed after the width mapping)
    ['\u212a@example.com', 'k@example.com'], // KELVIN SIGN is canonically K
    ['STRASSE@example.de', 'strasse@example.de'],
    ['stra\u00dfe@example.de', 'stra\u00dfe@example.de'], // ß is not folded to ss
    ['\u0130@example.com', 'i\u0307@example.com'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeEmail(input)).toBe(expected);
    expect(normalizeEmail(expected)).toBe(expected); // idempotent
  });
});

describe('emailLookProblem', () => {
  it.each([
    'ada@example.com',
    'jos\u00e9@example.com',
    'иван@пример.рф', // all Cyrillic
    'αλφα@example.gr', // all Greek
    'иван@example.com', // Cyrillic local part, Latin domain: each part is one script
    'たなか太郎@example.jp', // Hiragana + Han
    'ヤマダ山田@例え.jp', // Katakana + Han
    '김철수@example.kr',
    'tanaka太郎@example.jp', // Latin + Han + Hiragana/Katakana is an allowed combination
    'user+tag_1.x-y@sub.example.co.uk',
    'ーたなか@example.jp', // U+30FC (Hiragana/Katakana extensions) with Hiragana
  ])('accepts %j', (email) => {
    expect(emailLookProblem(normalizeEmail(email))).toBeNull();
  });

  it.each([
    ['ada\u200b@example.com', EMAIL_INVISIBLE], // zero-width space
    ['ad\u202ea@example.com', EMAIL_INVISIBLE], // right-to-left override
    ['a\u200dda@example.com', EMAIL_INVISIBLE], // zero-width joiner
    ['a\u00adda@example.com', EMAIL_INVISIBLE], // soft hyphen
    ['a\ufeffda@example.com', EMAIL_INVISIBLE], // BOM inside
    ['ada\u2066@example.com', EMAIL_INVISIBLE], // isolate
    ['ada\u200e@example.com', EMAIL_INVISIBLE], // LRM
    ['ada\u061c@example.com', EMAIL_INVISIBLE], // Arabic letter mark
    ['ada\ufe0f@example.com', EMAIL_INVISIBLE], // variation selector
    ['ada\u3164@example.com', EMAIL_INVISIBLE], // Hangul filler
    ['ada\u0000@example.com', EMAIL_INVISIBLE],
    ['ada\ue000@example.com', EMAIL_INVISIBLE], // private use
    ['\ufb01@example.com', EMAIL_COMPATIBILITY], // ﬁ ligature
    ['\u017f@example.com', EMAIL_COMPATIBILITY], // long s
    ['\u210c@example.com', EMAIL_COMPATIBILITY], // black-letter H
    ['ada\u00b2@example.com', EMAIL_COMPATIBILITY], // superscript two
    ['\u00b5@example.com', EMAIL_COMPATIBILITY], // micro sign
    ['\u0430da@example.com', EMAIL_MIXED_SCRIPT], // Cyrillic а among Latin
    ['ada@ex\u0430mple.com', EMAIL_MIXED_SCRIPT], // ... in a domain label
    ['ada@example.c\u03bfm', EMAIL_MIXED_SCRIPT], // Greek ο in the top-level label
    ['\u0391da@example.com', EMAIL_MIXED_SCRIPT], // Greek capital alpha (lower-cased α) with Latin
    ['김철수たなか@example.jp', EMAIL_MIXED_SCRIPT], // Hangul + Hiragana is no allowed combination
  ])('refuses %j', (email, problem) => {
    expect(emailLookProblem(normalizeEmail(email))).toBe(problem);
  });

  it('judges each label on its own', () => {
    expect(isRestrictedScript('пример')).toBe(true);
    expect(isRestrictedScript('exаmple')).toBe(false);
    expect(isRestrictedScript('123-_')).toBe(true);
    expect(isRestrictedScript('')).toBe(true);
  });
});
