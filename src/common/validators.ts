import { Transform } from 'class-transformer';
import { ValidateBy, ValidationOptions } from 'class-validator';
import { emailLookProblem, normalizeEmail } from '../config/email';

/** Length in Unicode code points (what the contract counts), not UTF-16 units. */
export function codePoints(value: string): number {
  return Array.from(value).length;
}

export function CodePointLength(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'codePointLength',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && codePoints(value) >= min && codePoints(value) <= max,
        defaultMessage: (args) => `${args?.property} must be between ${min} and ${max} characters`,
      },
    },
    options,
  );
}

export function ByteLength(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  return byteLength('byteLength', (value) => value, min, max, options);
}

/**
 * A password's length, counted on its NFC form: the form PasswordHasher hashes and compares, so the
 * 72 bytes bcrypt reads are measured on what it is given (NFC can lengthen a few characters, such as
 * U+0958, and shortens decomposed ones). The message stays the plain byte rule.
 */
export function NfcByteLength(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  return byteLength('nfcByteLength', (value) => value.normalize('NFC'), min, max, options);
}

function byteLength(
  name: string,
  measured: (value: string) => string,
  min: number,
  max: number,
  options?: ValidationOptions,
): PropertyDecorator {
  return ValidateBy(
    {
      name,
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          const bytes = Buffer.byteLength(measured(value), 'utf8');
          return bytes >= min && bytes <= max;
        },
        defaultMessage: (args) => `${args?.property} must be between ${min} and ${max} bytes (UTF-8)`,
      },
    },
    options,
  );
}

/** Trims strings; leaves anything else for the type check to refuse. */
export const Trim = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));

/**
 * Every e-mail that enters goes through normalizeEmail (trim, width mapping, NFC, lower case), so
 * two spellings of one address are one account. Non-strings are left for the type check.
 */
export const NormalizeEmail = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? normalizeEmail(value) : value));

/** Refuses an address that would look like another (emailLookProblem), with the reason as message. */
export function EmailLook(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'emailLook',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && emailLookProblem(value) === null,
        defaultMessage: (args) =>
          `${args?.property} ${(typeof args?.value === 'string' && emailLookProblem(args.value)) || 'must be a string'}`,
      },
    },
    options,
  );
}
