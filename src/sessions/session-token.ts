import { createHmac, randomBytes } from 'node:crypto';

/** 32 random bytes (256 bits), base64url: the opaque token the client holds. */
export function generateSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * What the database stores instead of the token: HMAC-SHA-256 keyed with SECRET_KEY. A leaked
 * copy of the database cannot be turned into working cookies without the key, and changing the
 * key ends every session at once. A keyed hash (not bcrypt) because the guard computes it on
 * every request, and a 256-bit random token needs no stretching.
 */
export function hashSessionToken(token: string, secretKey: string | Buffer): string {
  return createHmac('sha256', secretKey).update(token).digest('hex');
}

/** Tokens we issue are 43 base64url characters; anything else is not worth a database lookup. */
export function isWellFormedToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}
