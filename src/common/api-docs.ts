import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';

export class ErrorDto {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ example: 'Bad Request' }) error: string;
  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: ['email must be an email'],
    description: 'What is wrong; for validation errors, one entry per bad field.',
  })
  message: string | string[];
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; `message` names each bad field.',
  401: 'Not authenticated.',
  403: 'Refused: a cross-site request (see the rule at the top of this document) or, on /login, a deactivated account.',
  404: 'Not found.',
  409: 'Conflict.',
  413: 'Body larger than 100 kB.',
  415: 'Unsupported Content-Type.',
  503: 'Temporarily unavailable; see Retry-After.',
};

/**
 * The 409 of a request that lost a race to a credential change of the same account (a password
 * change, a disable, an "end all"; users.service.ts credentialsChanged): it did nothing.
 */
export function ApiCredentialsChanged(what: string) {
  return ApiResponse({
    status: 409,
    description: `Another change to the account's credentials or sessions committed while this request ran: ${what}`,
    type: ErrorDto,
  });
}

/** Documents the error responses a route can give, all in the shared error shape. */
export function ApiErrors(...statuses: number[]) {
  return applyDecorators(
    ...statuses.map((status) => ApiResponse({ status, description: DESCRIPTIONS[status] ?? 'Error.', type: ErrorDto })),
  );
}
