import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { EMAIL_TOKEN_PATTERN } from '../email-tokens';

/** A mail token as the examples show it (43 characters of base64url). */
export const EMAIL_TOKEN_EXAMPLE = 'Zp4Xc8Lw2QvN7sYb1TgK9eRj3HmU6aFd0WnB5yEo8Ci';

/**
 * The `token` field of the routes that use a mailed link: the value of the link's `token` query
 * parameter, which the page the link opens posts in a JSON body (the API never reads a token from
 * a URL).
 */
export function EmailTokenField(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({
      description:
        'The `token` query parameter of the link in the mail (the page it opens posts it here): 43 characters of base64url.',
      example: EMAIL_TOKEN_EXAMPLE,
      pattern: EMAIL_TOKEN_PATTERN.source,
    }),
    IsString(),
    Matches(EMAIL_TOKEN_PATTERN, { message: 'token must be the 43-character code from the link' }),
  );
}
