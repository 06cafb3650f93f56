import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SessionRequiredException } from './access/auth.decorator';
import { routeTraits } from './access/route-traits';
import { bodyErrorBody } from './body-parsing';
import { isDatabaseUnavailable, isUniqueViolation } from './database/database-errors';
import { prefersHtml } from './content-negotiation';
import { ErrorBody, HttpErrorWithHeaders, errorBody } from './http-error';

/**
 * The one place errors become responses. HTTP exceptions keep Nest's shape (plus any fields a
 * route adds); known database failures get their status; anything else is logged here and the
 * client sees a generic 500 with no stack, SQL or library name.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (reply.sent || reply.raw.headersSent) return;

    // A signed-out browser navigating to a page that needs a session is sent to the page its
    // @Auth names (redirectBrowsersTo) rather than shown the 401's JSON.
    if (exception instanceof SessionRequiredException) {
      const req = host.switchToHttp().getRequest<FastifyRequest>();
      const location = routeTraits(req).access?.redirectBrowsersTo;
      if (location && prefersHtml(req)) {
        void reply.redirect(location, HttpStatus.FOUND);
        return;
      }
    }
    if (exception instanceof HttpErrorWithHeaders) reply.headers(exception.headers);

    const body = this.toBody(exception);
    if (body.statusCode === (HttpStatus.SERVICE_UNAVAILABLE as number) && !reply.getHeader('retry-after'))
      reply.header('retry-after', '5');
    this.send(host, body);
  }

  /** Sends the error: JSON here; a route-scoped subclass may answer a browser with a page instead. */
  protected send(host: ArgumentsHost, body: ErrorBody): void {
    void host.switchToHttp().getResponse<FastifyReply>().status(body.statusCode).send(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      if (typeof response === 'string') return errorBody(status, response);
      const { statusCode: _s, error: _e, message, ...extra } = response as Partial<ErrorBody>;
      return errorBody(status, message ?? exception.message, extra);
    }
    // A body Fastify could not read (too large, not JSON, a corrupt gzip stream), a malformed URL.
    const bodyError = bodyErrorBody(exception);
    if (bodyError) return bodyError;
    if (isUniqueViolation(exception)) return errorBody(HttpStatus.CONFLICT, 'The resource already exists');
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`Database unavailable: ${describe(exception)}`);
      return errorBody(HttpStatus.SERVICE_UNAVAILABLE, 'The database is unavailable; try again shortly');
    }
    this.logger.error(`Unhandled error: ${describe(exception)}`, (exception as { stack?: string } | undefined)?.stack);
    return errorBody(HttpStatus.INTERNAL_SERVER_ERROR, 'Internal server error');
  }
}

/** Error class and code only: a driver's message can quote the SQL and its parameters. */
function describe(error: unknown): string {
  if (typeof error !== 'object' || error === null) return typeof error;
  const { name, code } = error as { name?: string; code?: string };
  return `${name ?? 'object'}${code ? ` (${code})` : ''}`;
}
