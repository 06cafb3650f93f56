import { generateRecoveryCode, hashRecoveryCode, normalizeRecoveryCode, recoveryCodeKey } from './recovery-codes';

describe('Recovery codes', () => {
  it('are 12 characters of a 31-letter alphabet (59 bits) in three groups, each new', () => {
    const codes = new Set(Array.from({ length: 1000 }, generateRecoveryCode));
    expect(codes.size).toBe(1000);
    for (const code of codes) expect(code).toMatch(/^[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}$/);
    expect(Math.log2(31 ** 12)).toBeGreaterThan(59);
  });

  it('are read in any case, with or without spaces and hyphens; anything else is no code', () => {
    expect(normalizeRecoveryCode(' ABCD-efgh jkmn ')).toBe('abcdefghjkmn');
    expect(normalizeRecoveryCode('abcdefghjkmn')).toBe('abcdefghjkmn');
    for (const bad of ['', 'abcd-efgh', 'abcd-efgh-jkmn-p', 'abcd-efgh-jkm0', 'abcd-efgh-jkm1', 'abcd_efgh_jkmn'])
      expect(normalizeRecoveryCode(bad)).toBeNull();
  });

  it('are stored as an HMAC under a key of their own, derived from SECRET_KEY', () => {
    const key = recoveryCodeKey('k');
    const hash = hashRecoveryCode('abcdefghjkmn', key);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecoveryCode('abcdefghjkmn', key)).toBe(hash);
    expect(hashRecoveryCode('abcdefghjkmn', recoveryCodeKey('other'))).not.toBe(hash);
  });
});
