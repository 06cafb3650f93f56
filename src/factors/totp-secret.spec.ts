import {
  decryptTotpSecret,
  encryptTotpSecret,
  generateTotpSecret,
  matchingStep,
  timeStepAt,
  totpOf,
  totpSecretKey,
} from './totp-secret';

describe('TOTP secrets and codes', () => {
  const key = totpSecretKey('a-secret-key-long-enough-for-the-tests-0123');

  it('makes 160-bit base32 secrets, each new', () => {
    const a = generateTotpSecret();
    expect(a).toMatch(/^[A-Z2-7]{32}$/);
    expect(generateTotpSecret()).not.toBe(a);
  });

  it('encrypts a secret so that only the same key and the same user read it back', () => {
    const secret = generateTotpSecret();
    const stored = encryptTotpSecret(secret, 7, key);
    expect(stored).not.toContain(secret);
    expect(encryptTotpSecret(secret, 7, key)).not.toBe(stored);
    expect(decryptTotpSecret(stored, 7, key)).toBe(secret);
    expect(decryptTotpSecret(stored, 8, key)).toBeNull();
    expect(decryptTotpSecret(stored, 7, totpSecretKey('another-secret-key-long-enough-0123456789'))).toBeNull();
    const [v, nonce, tag, body] = stored.split('.');
    const flipped = body.slice(0, -2) + (body.at(-2) === 'A' ? 'B' : 'A') + body.at(-1);
    expect(decryptTotpSecret([v, nonce, tag, flipped].join('.'), 7, key)).toBeNull();
    for (const bad of ['', 'v1', 'v2.a.b.c', `${stored}.x`, 'v1.!.!.!'])
      expect(decryptTotpSecret(bad, 7, key)).toBeNull();
  });

  it('derives its key from SECRET_KEY for this use only', () => {
    expect(totpSecretKey('k')).toHaveLength(32);
    expect(totpSecretKey('k').equals(Buffer.from('k'))).toBe(false);
  });

  it('matches RFC 6238 (SHA-1, the test vector at 59 s, 6 digits) and tells the step of a code within one step of now', () => {
    // RFC 6238 appendix B: the ASCII secret "12345678901234567890" (base32 below) gives 94287082 at
    // T = 59 s in 8 digits; its last 6 in 6 digits.
    const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    expect(totpOf(secret, 'x').generate({ timestamp: 59_000 })).toBe('287082');
    const at = new Date(1_765_000_015_000);
    const totp = totpOf(secret, 'x');
    const step = timeStepAt(at);
    for (const delta of [-1, 0, 1])
      expect(matchingStep(totp, totp.generate({ timestamp: at.getTime() + delta * 30_000 }), at)).toBe(step + delta);
    for (const delta of [-2, 2])
      expect(matchingStep(totp, totp.generate({ timestamp: at.getTime() + delta * 30_000 }), at)).toBeNull();
  });
});
