import { Controller, createParamDecorator, ExecutionContext, Get, Header, Query, Res } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Auth } from '../common/access/auth.decorator';
import { NegotiatesHtml } from '../common/access/route-traits';
import { prefersHtml } from '../common/content-negotiation';
import { CurrentAuth, CurrentUser, type RequestAuth } from '../sessions/request-auth.decorators';
import { SessionsService } from '../sessions/sessions.service';
import { toUserDto, UserPageDto } from '../users/dto/user.dto';
import type { User } from '../users/user.entity';
import {
  endedNotice,
  LINK_PAGES,
  linkPageState,
  noticeFor,
  NOTICES,
  renderDashboard,
  renderFormPage,
  secondFactorUse,
} from './pages';

/** See prefersHtml: a browser gets the dashboard page, every other client JSON. */
const PrefersHtml = createParamDecorator((_: unknown, ctx: ExecutionContext) =>
  prefersHtml(ctx.switchToHttp().getRequest<FastifyRequest>()),
);

const HTML_PAGE = { description: 'The page.', content: { 'text/html': { schema: { type: 'string' } } } };

/** The query of a mailed link's page: the link's token, kept out of logs and referrers. */
const TOKEN_QUERY = {
  name: 'token',
  required: false,
  description:
    'The token from the mailed link. The page only puts it in its form (a GET spends nothing: mail scanners fetch links) and, with JavaScript, takes it out of the address bar; the page is sent no-store, with Referrer-Policy: no-referrer, and loads nothing from another site.',
  schema: { type: 'string' },
};

function doneQuery(page: keyof typeof LINK_PAGES) {
  return {
    name: 'notice',
    required: false,
    enum: [LINK_PAGES[page].notice],
    description: 'Shows the page done (where its plain form post is sent on success); anything else is ignored.',
  };
}

/**
 * The browser pages. Each is plain HTML from `views/`, with its styles and scripts under /assets
 * (`public/`); the forms post to the JSON API's own routes (see BrowserForm), so the pages add no
 * second way to sign up or in.
 */
@ApiTags('pages')
@Controller()
export class PagesController {
  constructor(private readonly sessions: SessionsService) {}

  @Auth({ mode: 'public' })
  @Get('signup_page')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @ApiOperation({ summary: 'The sign-up page: a form that posts to /signup, with or without JavaScript.' })
  @ApiProduces('text/html')
  @ApiOkResponse(HTML_PAGE)
  signupPage(): string {
    return renderFormPage('signup');
  }

  @Auth({ mode: 'optional' })
  @Get('login_page')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @ApiOperation({
    summary: 'The sign-in page: a form that posts to /login, with or without JavaScript.',
    description:
      'When the browser still carries the cookie of a session that has ended, the page says why in words ' +
      '("You were signed out from another device", "Your session expired", ...); with a valid session, it says who is signed in.',
  })
  @ApiQuery({
    name: 'notice',
    required: false,
    enum: Object.keys(NOTICES),
    description: 'A fixed notice to show; anything else is ignored.',
  })
  @ApiProduces('text/html')
  @ApiOkResponse(HTML_PAGE)
  loginPage(@CurrentAuth() auth: RequestAuth, @Query('notice') notice: unknown): string {
    const signedIn = auth.user
      ? `You are signed in as ${auth.user.name}. Signing in again ends that session first.`
      : '';
    return renderFormPage('login', { notice: noticeFor(notice) || signedIn || endedNotice(auth.failure) });
  }

  @Auth({ mode: 'public' })
  @Get('login_second_factor_page')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @ApiOperation({
    summary:
      "The sign-in's second step without JavaScript: a form that posts the authenticator app's code (or a recovery code) to /login/second_factor.",
    description:
      "A browser's plain form post of /login is sent here (303) when the password was right on an account with an authenticator app. " +
      'The page itself holds nothing: the pending sign-in is the `second_factor` cookie (Path=/login), which only the form post carries. ' +
      'With JavaScript the sign-in page shows the same form in place.',
  })
  @ApiQuery({
    name: 'use',
    required: false,
    enum: ['recovery_code'],
    description: 'Shows the recovery-code field instead of the code field; anything else is ignored.',
  })
  @ApiProduces('text/html')
  @ApiOkResponse(HTML_PAGE)
  secondFactorPage(@Query('use') use: unknown): string {
    return renderFormPage('login_second_factor', { use: secondFactorUse(use) });
  }

  @Auth({ mode: 'public' })
  @Get('forgot_password_page')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @ApiOperation({
    summary:
      'The "Forgot password?" page: a form that posts an address to /forgot_password, with or without JavaScript.',
    description: 'Afterwards it says the same words whatever the address: whether an account uses it is not told.',
  })
  @ApiQuery(doneQuery('forgot_password'))
  @ApiProduces('text/html')
  @ApiOkResponse(HTML_PAGE)
  forgotPasswordPage(@Query('notice') notice: unknown): string {
    return renderFormPage('forgot_password', linkPageState('forgot_password', { notice }));
  }

  @Auth({ mode: 'public' })
  @Get('reset_password_page')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @ApiOperation({
    summary: 'The page a password-reset link opens: a new password, posted with the token to /reset_password.',
    description:
      'Opening it changes nothing; the post does. A missing or malformed token shows what went wrong and links to the "Forgot password?" page.',
  })
  @ApiQuery(TOKEN_QUERY)
  @ApiQuery(doneQuery('reset_password'))
  @ApiProduces('text/html')
  @ApiOkResponse(HTML_PAGE)
  resetPasswordPage(@Query('token') token: unknown, @Query('notice') notice: unknown): string {
    return renderFormPage('reset_password', linkPageState('reset_password', { token, notice }));
  }

  @Auth({ mode: 'public' })
  @Get('verify_email_page')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @ApiOperation({
    summary: 'The page an e-mail verification link opens: a button that posts the token to /verify_email.',
    description:
      'Opening it changes nothing; the button does. A missing or malformed token shows what went wrong and how to get a new link.',
  })
  @ApiQuery(TOKEN_QUERY)
  @ApiQuery(doneQuery('verify_email'))
  @ApiProduces('text/html')
  @ApiOkResponse(HTML_PAGE)
  verifyEmailPage(@Query('token') token: unknown, @Query('notice') notice: unknown): string {
    return renderFormPage('verify_email', linkPageState('verify_email', { token, notice }));
  }

  @Auth({ redirectBrowsersTo: '/login_page' })
  @NegotiatesHtml()
  @Get('userpage')
  @ApiOperation({
    summary:
      'The protected user dashboard: the user and the number of active sessions (JSON), or the dashboard page for a browser.',
    description:
      'A client that prefers HTML (`Accept: text/html`, a browser navigating) gets the dashboard page; every other client gets JSON. ' +
      'A signed-out browser is redirected (302) to /login_page instead of getting 401.',
  })
  @ApiProduces('application/json', 'text/html')
  @ApiOkResponse({
    description: 'The user and their session count; or, for a browser, the dashboard page.',
    content: {
      'application/json': { schema: { $ref: '#/components/schemas/UserPageDto' } },
      'text/html': { schema: { type: 'string' } },
    },
  })
  @ApiExtraModels(UserPageDto)
  async userpage(
    @CurrentUser() user: User,
    @PrefersHtml() html: boolean,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<UserPageDto | string> {
    const page: UserPageDto = { user: toUserDto(user), active_sessions: await this.sessions.countUsable(user) };
    if (!html) return page;
    void res.type('text/html; charset=utf-8');
    return renderDashboard(page.user, page.active_sessions);
  }
}
