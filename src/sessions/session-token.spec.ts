import { createHmac } from 'node:crypto';
import { generateSessionToken, hashSessionToken, isWellFormedToken } from './session-token';

describe('session tokens', () => {
  it('are 256 random bits in base64url, different every time', () => {
    const tokens = new Set(Array.from({ length: 1000 }, generateSessionToken));
    expect(tokens.size).toBe(1000);
    for (const token of tokens) {
      expect(isWellFormedToken(token)).toBe(true);
      expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    }
  });

  it('are stored as HMAC-SHA-256 keyed with the secret, which changes with the key', () => {
    const token = generateSessionToken();
    const hash = hashSessionToken(token, 'key-one');
    expect(hash).toBe(createHmac('sha256', 'key-one').update(token).digest('hex'));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashSessionToken(token, 'key-two')).not.toBe(hash);
  });

  it.each(['', 'short', 'a'.repeat(44), `${'a'.repeat(42)}=`, `${'a'.repeat(42)}/`])(
    'rejects the malformed token %p',
    (token) => {
      expect(isWellFormedToken(token)).toBe(false);
    },
  );
});
