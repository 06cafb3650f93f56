import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AUTH_MODE, AuthMode, AuthedRequest, LOGIN_REDIRECT } from './auth.decorators';
import { unauthorized } from './auth-failure';
import { prefersHtml } from '../common/content-negotiation';
import { RedirectException } from '../common/http-error';
import { SessionCookie } from '../sessions/session-cookie';
import { SessionsService } from '../sessions/sessions.service';

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
    const token = this.cookie.read(req);
    const result = token ? await this.sessions.authenticate(token) : ({ ok: false, reason: 'missing' } as const);

    if (result.ok) {
      req.auth = { user: result.user, session: result.session };
      return true;
    }
    req.auth = { failure: result.reason };
    if (mode === 'optional') return true;

    if (redirect && prefersHtml(req)) throw new RedirectException(redirect);
    throw unauthorized(result.reason);
  }
}
