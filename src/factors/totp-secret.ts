import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

/** RFC 6238 as every authenticator app reads it: HMAC-SHA-1, 6 digits, 30-second steps. */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Codes of the step before and after now are accepted too (clock drift, a code typed as it turned). */
export const TOTP_WINDOW = 1;
/** The issuer shown in the app beside the account (the passkeys' relying-party name). */
export const TOTP_ISSUER = 'Session server';
/** 160 bits, the HMAC-SHA-1 key length RFC 4226 recommends. */
const SECRET_BYTES = 20;

/** The TOTP of a secret (base32), labelled with the account's address. */
export function totpOf(secretBase32: string, label: string): TOTP {
  return new TOTP({
    issuer: TOTP_ISSUER,
    label,
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** A new random secret, base32 (what the app's "enter a key" field takes). */
export function generateTotpSecret(): string {
  return new Secret({ size: SECRET_BYTES }).base32;
}

/** The time step (RFC 6238 "T") of a moment. */
export function timeStepAt(at: Date): number {
  return Math.floor(at.getTime() / 1000 / TOTP_PERIOD_SECONDS);
}

/**
 * The time step whose code `code` is, within TOTP_WINDOW steps of `at`; null when it is none of
 * them. otpauth compares in constant time.
 */
export function matchingStep(totp: TOTP, code: string, at: Date): number | null {
  const delta = totp.validate({ token: code, timestamp: at.getTime(), window: TOTP_WINDOW });
  return delta === null ? null : timeStepAt(at) + delta;
}

/**
 * The key TOTP secrets are encrypted under: HMAC(SECRET_KEY, 'totp-secret'), 32 bytes for
 * AES-256, never the key of any token hash. The secret must be read back to compute codes, so it
 * is encrypted, not hashed: a copy of the database alone gives no working second factor.
 */
export function totpSecretKey(secretKey: string): Buffer {
  return createHmac('sha256', secretKey).update('totp-secret').digest();
}

const VERSION = 'v1';

/**
 * AES-256-GCM with a random 96-bit nonce, the user's id as associated data (a row's ciphertext
 * copied onto another account's row does not decrypt there): `v1.<nonce>.<tag>.<ciphertext>`,
 * base64url.
 */
export function encryptTotpSecret(secretBase32: string, userId: number, key: Buffer): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(`totp:${userId}`));
  const ciphertext = Buffer.concat([cipher.update(secretBase32, 'utf8'), cipher.final()]);
  return [VERSION, nonce, cipher.getAuthTag(), ciphertext]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

/** The secret back; null when the text was not made by encryptTotpSecret under this key for this user. */
export function decryptTotpSecret(stored: string, userId: number, key: Buffer): string | null {
  const [version, nonce, tag, ciphertext, ...rest] = stored.split('.');
  if (version !== VERSION || rest.length > 0 || !nonce || !tag || ciphertext === undefined) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
    decipher.setAAD(Buffer.from(`totp:${userId}`));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
