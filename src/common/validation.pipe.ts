import { ArgumentMetadata, BadRequestException, Injectable, PipeTransform, ValidationPipe } from '@nestjs/common';

/** Far deeper than any request DTO; deeper JSON would only exhaust the transformer's recursion (a 500). */
const MAX_BODY_DEPTH = 32;

/** A UTF-16 surrogate that is not half of a pair: not a Unicode character (and validators' encodeURI throws on it). */
const LONE_SURROGATE = /\p{Cs}/u;
/** PostgreSQL's text types cannot hold U+0000; refused on SQLite too, so both databases answer alike. */
const NUL = '\u0000';

/**
 * Why a parsed body cannot be validated at all, if it cannot: objects/arrays nested deeper than
 * `MAX_BODY_DEPTH`, or a key or string that is not well-formed Unicode or holds a NUL. Checked without recursion.
 */
function bodyProblem(value: unknown): string | undefined {
  const stack: Array<[unknown, number]> = [[value, 1]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [node, depth] = item;
    if (typeof node === 'string' && LONE_SURROGATE.test(node))
      return 'Request body contains text that is not valid Unicode';
    if (typeof node === 'string' && node.includes(NUL))
      return 'Request body contains a NUL character (U+0000), which no field accepts';
    if (typeof node !== 'object' || node === null) continue;
    if (depth > MAX_BODY_DEPTH) return `Request body is nested too deeply (more than ${MAX_BODY_DEPTH} levels)`;
    for (const [key, child] of Object.entries(node)) stack.push([key, depth + 1], [child, depth + 1]);
  }
  return undefined;
}

const base = {
  whitelist: true,
  transform: true,
  // One message per bad field (its first broken rule), not every rule it breaks.
  stopAtFirstError: true,
  // Validation errors name each bad field; the target object is never echoed back.
  validationError: { target: false, value: false },
} as const;

/**
 * Validates request bodies and query DTOs. A body field the route does not define is refused
 * (no mass assignment: `id`, `is_active`, ... can never be set by a client); an unknown query
 * parameter (a cache-buster, say) is ignored. Route parameters are left to their own pipes.
 */
@Injectable()
export class AppValidationPipe implements PipeTransform {
  private readonly body = new ValidationPipe({ ...base, forbidNonWhitelisted: true });
  private readonly query = new ValidationPipe({ ...base });

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'body') {
      // No body at all is validated as an empty object, so the error names every required field.
      const body = value ?? {};
      if (typeof body !== 'object' || Array.isArray(body))
        throw new BadRequestException('Request body must be a JSON object');
      const problem = bodyProblem(body);
      if (problem) throw new BadRequestException(problem);
      return this.body.transform(body, metadata);
    }
    if (metadata.type === 'query' && !metadata.data) return this.query.transform(value ?? {}, metadata);
    return value;
  }
}

/** A positive database id in a route parameter (1 to 2^31-1); anything else is a 400. */
@Injectable()
export class ParseIdPipe implements PipeTransform<string, number> {
  transform(value: string, metadata: ArgumentMetadata): number {
    const id = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
    if (!(id >= 1 && id <= 2147483647)) {
      throw new BadRequestException(`${metadata.data ?? 'id'} must be a positive integer`);
    }
    return id;
  }
}
