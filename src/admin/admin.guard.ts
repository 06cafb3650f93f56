import { CanActivate, ExecutionContext, Injectable, NotFoundException } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { AuthedRequest } from '../auth/auth.decorators';
import { SessionsService } from '../sessions/sessions.service';

/**
 * The admin routes' gate, run after the session guard (the routes are @OptionalSession) and before
 * any pipe: anyone but a signed-in administrator gets the very 404 an unknown route gets, whatever
 * the parameters, so the routes reveal nothing of themselves (ASVS V7.4.5). An administrator then
 * needs a recent password (403 reauthentication_required) for every action.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(
    private readonly sessions: SessionsService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const { user, session } = req.auth ?? {};
    if (!user?.isAdmin || !session) {
      // Word for word Nest's not-found handler (RoutesResolver.registerNotFoundHandler).
      const adapter = this.adapterHost.httpAdapter;
      throw new NotFoundException(`Cannot ${adapter.getRequestMethod(req)} ${adapter.getRequestUrl(req)}`);
    }
    this.sessions.assertRecentAuth(session);
    return true;
  }
}
