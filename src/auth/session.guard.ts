import { CanActivate, ExecutionContext, Injectable, NotFoundException, Optional } from '@nestjs/common';
import type { AccessRule } from '../common/access/route-traits';
import { Meter } from '../common/meter';
import { routeTraits } from '../common/access/route-traits';
import { AuthedRequest } from '../sessions/request-auth.decorators';
import { unauthorized } from './auth-failure';
import { SessionCookie } from '../sessions/session-cookie';
import { SessionsService, type Authentication, type AuthFailureReason } from '../sessions/sessions.service';

/** A route without @Auth: default-deny. */
const REQUIRED: AccessRule = { mode: 'required' };

/**
 * The one default-deny guard (APP_GUARD). Every route needs a valid session unless its @Auth
 * (common/access) says otherwise, read from the route's config (`req.routeOptions.config.access`,
 * the route Fastify matched): `public` (no lookup at all), `optional` (looked up if present, never
 * refused), or `admin`. A signed-out request to a `required` route gets the 401
 * (SessionRequiredException); the exception filter turns it into the route's browser redirect.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly sessions: SessionsService,
    private readonly cookie: SessionCookie,
    @Optional() private readonly meter?: Meter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return false;
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const access = routeTraits(req).access ?? REQUIRED;
    if (access.mode === 'public') return true;

    const presented = this.cookie.read(req);
    const result =
      typeof presented === 'string' ? await this.sessions.authenticate(presented) : await this.firstOf(presented);
    req.auth = result.ok ? { user: result.user, session: result.session } : { failure: result.reason };
    // No token on a route where a session is optional (/login, /logout) is no check, just a visitor.
    if (result.ok || result.reason !== 'missing' || access.mode !== 'optional')
      this.meter?.sessionCheck(result.ok ? 'ok' : result.reason);

    if (access.admin) return this.admitAdministrator(req);
    if (result.ok || access.mode === 'optional') return true;
    throw unauthorized(result.reason);
  }

  /**
   * The admin routes (ADMIN_EMAILS): anyone but a signed-in administrator gets the very 404 an
   * unknown route gets, before any parameter is validated, so the routes reveal nothing of
   * themselves (ASVS V7.4.5). An administrator then needs a recent password (403
   * reauthentication_required) for every action.
   */
  private admitAdministrator(req: AuthedRequest): boolean {
    const { user, session } = req.auth ?? {};
    // Word for word Nest's not-found handler (RoutesResolver.registerNotFoundHandler).
    if (!user?.isAdmin || !session) throw new NotFoundException(`Cannot ${req.raw.method} ${req.raw.url}`);
    this.sessions.assertRecentAuth(session);
    return true;
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
