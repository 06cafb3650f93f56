import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AUTH_MODE, AuthMode, AuthedRequest, LOGIN_REDIRECT } from './auth.decorators';
import { unauthorized } from './auth-failure';
import { prefersHtml } from '../common/content-negotiation';
import { RedirectException } from '../common/http-error';
import { SessionCookie } from '../sessions/session-cookie';
import { SessionsService, type Authentication, type AuthFailureReason } from '../sessions/sessions.service';

/**
 * The one default-deny guard (APP_GUARD). Every route needs a valid session unless marked
 * @Public() (no lookup at all) or @OptionalSession() (looked up if present, never refused).
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionsService,
    private readonly cookie: SessionCookie,
  ) {}

  /** Each handler's access rule, read from its decorators once (not on every request). */
  private readonly routes = new WeakMap<object, { mode: AuthMode | undefined; redirect: string | undefined }>();

  private routeOf(context: ExecutionContext): { mode: AuthMode | undefined; redirect: string | undefined } {
    const handler = context.getHandler();
    let route = this.routes.get(handler);
    if (!route) {
      const targets = [handler, context.getClass()];
      route = {
        mode: this.reflector.getAllAndOverride<AuthMode | undefined>(AUTH_MODE, targets),
        redirect: this.reflector.getAllAndOverride<string | undefined>(LOGIN_REDIRECT, targets),
      };
      this.routes.set(handler, route);
    }
    return route;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return false;
    const { mode, redirect } = this.routeOf(context);
    if (mode === 'public') return true;

    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const presented = this.cookie.read(req);
    const result =
      typeof presented === 'string' ? await this.sessions.authenticate(presented) : await this.firstOf(presented);

    if (result.ok) {
      req.auth = { user: result.user, session: result.session };
      return true;
    }
    req.auth = { failure: result.reason };
    if (mode === 'optional') return true;

    if (redirect && prefersHtml(req)) throw new RedirectException(redirect);
    throw unauthorized(result.reason);
  }

  /**
   * Several session cookies (see SessionCookie.read): the first that authenticates, in the header's
   * order, so a planted cookie cannot hide the real one. When none does, the first reason that says
   * more than `invalid` (the caller's own session ended, and why), else `invalid`.
   */
  private async firstOf(
    tokens: readonly string[] | undefined,
  ): Promise<Authentication | { ok: false; reason: 'missing' }> {
    if (!tokens) return { ok: false, reason: 'missing' };
    let reason: AuthFailureReason = 'invalid';
    for (const token of tokens) {
      const result = await this.sessions.authenticate(token);
      if (result.ok) return result;
      if (reason === 'invalid') reason = result.reason;
    }
    return { ok: false, reason };
  }
}
