import { createParamDecorator, Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { appConfig, type AppConfig } from '../config/app.config';

/** The pending sign-in's cookie (never the session cookie's name: the guard never reads it). */
export const SECOND_FACTOR_COOKIE = 'second_factor';

/**
 * The one owner of the `second_factor` cookie: HttpOnly, SameSite=Lax, Path=/login (sent only to
 * the sign-in routes, so no other route ever sees it), Secure as the session cookie is, and living
 * as long as the pending sign-in. No `__Host-` prefix, which requires Path=/.
 */
@Injectable()
export class SecondFactorCookie {
  constructor(@Inject(appConfig.KEY) private readonly config: AppConfig) {}

  set(reply: FastifyReply, token: string, maxAgeSeconds: number): void {
    void reply.setCookie(SECOND_FACTOR_COOKIE, token, { ...this.attributes(), maxAge: maxAgeSeconds });
  }

  clear(reply: FastifyReply): void {
    void reply.clearCookie(SECOND_FACTOR_COOKIE, this.attributes());
  }

  private attributes() {
    return { httpOnly: true, sameSite: 'lax' as const, path: '/login', secure: this.config.cookieSecure };
  }
}

/** The `second_factor` cookie's value, for a handler (undefined when absent or empty). */
export const SecondFactorToken = createParamDecorator((_: unknown, ctx: ExecutionContext): string | undefined => {
  const cookies = ctx.switchToHttp().getRequest<FastifyRequest>().cookies as Record<string, unknown> | undefined;
  const value = cookies?.[SECOND_FACTOR_COOKIE];
  return typeof value === 'string' && value !== '' ? value : undefined;
});
