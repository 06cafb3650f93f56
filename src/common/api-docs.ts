import { applyDecorators } from '@nestjs/common';
import type { Type } from '@nestjs/common';
import { CREDENTIALS_CHANGED, errorBody, reasonPhrase } from './http-error';
import { ApiProperty, ApiResponse, getSchemaPath, type ReferenceObject, type SchemaObject } from '@nestjs/swagger';

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
  403: 'Refused: a cross-site request (see the rule at the top of this document) or, on /login, a deactivated account, or (with REQUIRE_VERIFIED_EMAIL=true, after the right password) an unconfirmed address: `reason: email_not_verified`.',
  404: 'Not found.',
  409: 'Conflict.',
  413: 'Body larger than 100 kB.',
  415: 'Unsupported Content-Type.',
  429: 'Too many requests; see Retry-After.',
  503: 'Temporarily unavailable; see Retry-After.',
};

/** A typical `message` for each status, for the examples (the 400 one is ErrorDto's own). */
const EXAMPLE_MESSAGES: Record<number, string | string[]> = {
  400: ['email must be an email'],
  401: 'Authentication required',
  403: 'Cross-site request refused',
  404: 'Not found',
  409: 'The resource already exists',
  413: 'Request body must not exceed 100kb',
  415: 'Content-Type must be application/json',
  429: 'Too many requests; try again later',
  503: 'Temporarily unavailable; try again shortly',
};

/**
 * The example body of an error response with this status. Without one, the documentation showed
 * ErrorDto's property examples, a 400 body, under every error status.
 */
export function errorExample(status: number, message?: string | string[], extra: Record<string, unknown> = {}) {
  return errorBody(status, message ?? EXAMPLE_MESSAGES[status] ?? reasonPhrase(status), extra);
}

/**
 * The 409 of a request that lost a race to a credential change of the same account (a password
 * change, a disable, an "end all"; common/http-error.ts credentialsChanged): it did nothing.
 */
export function ApiCredentialsChanged(what: string) {
  return ApiResponse({
    status: 409,
    description: `Another change to the account's credentials or sessions committed while this request ran: ${what}`,
    type: ErrorDto,
    example: errorExample(409, CREDENTIALS_CHANGED),
  });
}

/** Documents the error responses a route can give, all in the shared error shape. */
export function ApiErrors(...statuses: number[]) {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status] ?? 'Error.',
        type: ErrorDto,
        example: errorExample(status),
      }),
    ),
  );
}

/**
 * The schema of a property that is an object of `model` or null, for the OpenAPI 3.0 document:
 * `{ nullable: true, allOf: [{ $ref }] }` (what `@ApiProperty({ type, nullable: true })` writes)
 * lets no null through, since `nullable` does not reach into `allOf` (OpenAPI 3.0.3 says so), so
 * validators refused a real `null`. One of: the model, or the null value (`nullable` with a type,
 * restricted to null). The class with the property lists `model` in @ApiExtraModels.
 */
export function nullableRef(model: Type): { oneOf: Array<SchemaObject | ReferenceObject> } {
  return { oneOf: [{ $ref: getSchemaPath(model) }, { type: 'object', nullable: true, enum: [null] }] };
}
