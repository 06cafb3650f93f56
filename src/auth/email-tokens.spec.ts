import { createHmac } from 'node:crypto';
import { deviceCookieKey } from './device-cookie';
import { EMAIL_TOKEN_PATTERN, emailTokenKey, generateEmailToken, hashEmailToken } from './email-tokens';

describe('mail tokens', () => {
  it('are 256 random bits in base64url, never the same twice', () => {
    const tokens = Array.from({ length: 200 }, generateEmailToken);
    for (const token of tokens) {
      expect(token).toMatch(EMAIL_TOKEN_PATTERN);
      expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    }
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('are stored as an HMAC-SHA-256 under a key of their own, derived from SECRET_KEY', () => {
    const secret = 'a-secret-key-that-is-long-enough-for-the-test';
    const key = emailTokenKey(secret);
    const token = generateEmailToken();
    const hash = hashEmailToken(token, key);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(hashEmailToken(token, emailTokenKey(secret)));
    // Not the session tokens' hash (keyed with SECRET_KEY itself), nor under the device cookie's key.
    expect(hash).not.toBe(createHmac('sha256', secret).update(token).digest('hex'));
    expect(key.equals(deviceCookieKey(secret))).toBe(false);
    // Another SECRET_KEY: every stored hash stops matching.
    expect(hash).not.toBe(hashEmailToken(token, emailTokenKey(`${secret}-rotated`)));
  });
});
