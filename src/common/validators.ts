import { Transform } from 'class-transformer';
import { ValidateBy, ValidationOptions } from 'class-validator';

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
  return ValidateBy(
    {
      name: 'byteLength',
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          const bytes = Buffer.byteLength(value, 'utf8');
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
