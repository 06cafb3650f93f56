import { createHmac, randomBytes } from 'node:crypto';

/** 32 random bytes (256 bits), base64url: the token a mailed link carries. */
export function generateEmailToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The key mail tokens are stored under: HMAC(SECRET_KEY, 'email-token'), never the key of session
 * tokens or device cookies (a hash from one use can never pass for another), and a new SECRET_KEY
 * voids every link in flight along with every session.
 */
export function emailTokenKey(secretKey: string): Buffer {
  return createHmac('sha256', secretKey).update('email-token').digest();
}

/**
 * What the database stores instead of the token: HMAC-SHA-256 under emailTokenKey, hex. A copy of
 * the table gives no working link without the key; a 256-bit random token needs no stretching.
 */
export function hashEmailToken(token: string, key: Buffer): string {
  return createHmac('sha256', key).update(token).digest('hex');
}

/** The shape of the tokens we issue (43 base64url characters). */
export const EMAIL_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
