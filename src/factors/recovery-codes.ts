import { createHmac, randomInt } from 'node:crypto';

/** How many recovery codes an account gets at a time. */
export const RECOVERY_CODE_COUNT = 10;

/** 31 letters and digits without look-alikes (no 0/o, 1/l/i). */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const GROUPS = 3;
const GROUP_LENGTH = 4;

/** A recovery code as shown: `xxxx-xxxx-xxxx`, 12 characters of a 31-letter alphabet (59 bits). */
export function generateRecoveryCode(): string {
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    let group = '';
    for (let i = 0; i < GROUP_LENGTH; i++) group += ALPHABET[randomInt(ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}

/**
 * A code as typed, in the form it is hashed in: lower case, without spaces and hyphens. Null when it
 * cannot be one of ours (wrong length or letters), so it costs no lookup.
 */
export function normalizeRecoveryCode(typed: string): string | null {
  const code = typed.toLowerCase().replace(/[\s-]/g, '');
  return code.length === GROUPS * GROUP_LENGTH && [...code].every((c) => ALPHABET.includes(c)) ? code : null;
}

/**
 * The key recovery codes are stored under: HMAC(SECRET_KEY, 'recovery-code'). A keyed hash, not
 * bcrypt: each code has 59 random bits, too many to guess against the key-less table, and a
 * sign-in compares one hash instead of ten slow ones.
 */
export function recoveryCodeKey(secretKey: string): Buffer {
  return createHmac('sha256', secretKey).update('recovery-code').digest();
}

/** What the table stores: HMAC-SHA-256 of the normalised code, hex. */
export function hashRecoveryCode(normalized: string, key: Buffer): string {
  return createHmac('sha256', key).update(normalized).digest('hex');
}
