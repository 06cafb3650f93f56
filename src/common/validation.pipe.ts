import { ArgumentMetadata, BadRequestException, Injectable, PipeTransform, ValidationPipe } from '@nestjs/common';

/** Far deeper than any request DTO; deeper JSON would only exhaust the transformer's recursion (a 500). */
const MAX_BODY_DEPTH = 32;

/** True when objects/arrays in `value` nest deeper than `max` (checked without recursion). */
function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [node, depth] = item;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

const base = {
  whitelist: true,
  transform: true,
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
      if (typeof body !== 'object' || Array.isArray(body)) throw new BadRequestException('Request body must be a JSON object');
      if (nestsDeeperThan(body, MAX_BODY_DEPTH)) throw new BadRequestException(`Request body must not nest deeper than ${MAX_BODY_DEPTH} levels`);
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
