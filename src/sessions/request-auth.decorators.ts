import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { User } from '../users/user.entity';
import type { Session } from './session.entity';
import type { AuthFailureReason, ClientInfo } from './sessions.service';

/**
 * What the session guard learned about the caller, kept on the request for the handler, and the
 * parameter decorators that hand it over. Here, beside the session they describe, so that every
 * feature (sessions' own routes included) reads the caller without importing auth.
 */
export interface RequestAuth {
  user?: User;
  session?: Session;
  /** Why there is no session (public routes with an optional session only). */
  failure?: AuthFailureReason | 'missing';
}

export type AuthedRequest = FastifyRequest & { auth?: RequestAuth };

function authOf(ctx: ExecutionContext): RequestAuth {
  return ctx.switchToHttp().getRequest<AuthedRequest>().auth ?? { failure: 'missing' };
}

/** The signed-in user (undefined only on an `optional` route without a session). */
export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext) => authOf(ctx).user);

/** The session that made the request. */
export const CurrentSession = createParamDecorator((_: unknown, ctx: ExecutionContext) => authOf(ctx).session);

/** The whole authentication outcome, for routes that report on it (/session_status). */
export const CurrentAuth = createParamDecorator((_: unknown, ctx: ExecutionContext) => authOf(ctx));

/** The request's client (a ClientInfo): its address, honouring TRUST_PROXY, and user agent, for session records. */
export const RequestClient = createParamDecorator((_: unknown, ctx: ExecutionContext): ClientInfo => {
  const req = ctx.switchToHttp().getRequest<FastifyRequest>();
  const ua = req.headers['user-agent'];
  // "::ffff:203.0.113.9" is how a dual-stack socket reports an IPv4 client; store the IPv4 form.
  const ip = req.ip?.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1') ?? null;
  return { ipAddress: ip, userAgent: typeof ua === 'string' ? ua : null };
});
