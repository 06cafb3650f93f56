import {
  applyDecorators,
  ArgumentsHost,
  BadRequestException,
  Catch,
  Inject,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  UseFilters,
  UseInterceptors,
} from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { map, type Observable } from 'rxjs';
import { AllExceptionsFilter } from '../common/all-exceptions.filter';
import { prefersHtml } from '../common/content-negotiation';
import type { ErrorBody } from '../common/http-error';

/**
 * The form fields of each page, in the API's names (and `confirm_password`, which only the reset
 * page's plain form sends: see ConfirmPasswordInterceptor). Passwords are never echoed back.
 */
export const FORM_FIELDS = {
  login: ['email', 'password'],
  signup: ['name', 'phone', 'email', 'password'],
  forgot_password: ['email'],
  reset_password: ['token', 'new_password', 'confirm_password'],
  verify_email: ['token'],
  login_second_factor: ['code', 'recovery_code'],
} as const;
export type FormPage = keyof typeof FORM_FIELDS;

/** Never echoed back: passwords, and the second step's codes (one-time secrets). */
const SECRET_FIELDS: ReadonlySet<string> = new Set([
  'password',
  'new_password',
  'confirm_password',
  'code',
  'recovery_code',
]);

/** The second step's two ways: the authenticator app's code, or a recovery code. */
export type SecondFactorUse = 'code' | 'recovery_code';

/** Where a browser's plain sign-in form post goes when the password was right and a second step is due. */
export const SECOND_FACTOR_PAGE = '/login_second_factor_page';

/**
 * What a form page shows: the typed values (`remember_me: 'true'` for a ticked box), a message for
 * the form, one per field; on the pages a mailed link opens, that the link's token was refused
 * (`linkProblem`); on the sign-in page, the offer to send the verification link again.
 */
export interface FormState {
  values?: Partial<Record<string, string>>;
  error?: string;
  fieldErrors?: Partial<Record<string, string>>;
  notice?: string;
  linkProblem?: 'missing' | 'invalid';
  offerResend?: boolean;
  /** On the second-factor page, which field the form shows (the one that was posted). */
  use?: SecondFactorUse;
}

/**
 * Draws a form page in a state. PagesModule, which owns the HTML, provides it (globally): auth says
 * which of its routes are forms and what went wrong, and imports nothing from pages, which sits
 * above every feature in the module graph (docs/ARCHITECTURE.md).
 */
export abstract class FormPages {
  abstract render(page: FormPage, state: FormState): string;
}

/**
 * A plain HTML form post from a browser: URL-encoded, from a client that prefers HTML to JSON
 * (a browser navigating sends `Accept: text/html,...`). Such a request gets pages and redirects;
 * every other client (fetch, curl, the pages' own scripts, which ask for JSON) gets the JSON API
 * unchanged, even when it posts a form.
 */
export function isBrowserFormPost(req: FastifyRequest): boolean {
  return (
    req.method === 'POST' &&
    /^application\/x-www-form-urlencoded\s*(;|$)/i.test(req.headers['content-type'] ?? '') &&
    prefersHtml(req)
  );
}

/**
 * A sign-in that proved the password of an account with a second factor: no session yet, only the
 * pending state (its cookie set by the handler), answered `{"second_factor_required": true, ...}`.
 */
function needsSecondStep(result: unknown): boolean {
  return (
    typeof result === 'object' &&
    result !== null &&
    (result as { second_factor_required?: unknown }).second_factor_required === true
  );
}

/**
 * On success, a browser's form post is sent on with 303 See Other (so a reload does not post
 * again): to the route's page, or to the second-factor page when the sign-in still needs its second step.
 */
class FormRedirectInterceptor implements NestInterceptor {
  constructor(private readonly location: string) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    if (!isBrowserFormPost(http.getRequest<FastifyRequest>())) return next.handle();
    return next.handle().pipe(
      map((result) => {
        // The handler has set its cookies; the redirect keeps them. No body: browsers follow at once.
        void http
          .getResponse<FastifyReply>()
          .status(303)
          .header('location', needsSecondStep(result) ? SECOND_FACTOR_PAGE : this.location)
          .type('text/html; charset=utf-8');
        return '';
      }),
    );
  }
}

/** The sign-in page's words for a login refused until the address is verified (REQUIRE_VERIFIED_EMAIL). */
export const UNVERIFIED_SIGN_IN =
  'Your e-mail address is not verified yet. Use the link we sent to it, or have it sent again.';

function seconds(header: unknown): number | undefined {
  const n = Number(header);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

function waitText(total: number): string {
  if (total < 90) return `${total} second${total === 1 ? '' : 's'}`;
  const minutes = Math.ceil(total / 60);
  return `${minutes} minutes`;
}

/** A validation message for a person: "new_password must be ..." → "New password must be ...". */
function fieldSentence(field: string, message: string): string {
  const name = field.replace(/_/g, ' ');
  return `${name[0].toUpperCase()}${name.slice(1)}${message.slice(field.length)}.`;
}

/**
 * What the form page shows for an error the JSON API would have sent: validation messages beside
 * their fields (each starts with the field's name), anything else above the form. On a page a
 * mailed link opened, a 400 about anything but the typed fields is the link's token refused.
 */
export function formStateFor(page: FormPage, body: ErrorBody, retryAfter: unknown, submitted: unknown): FormState {
  const state = formStateOf(page, body, retryAfter, submitted);
  if (page !== 'login_second_factor') return state;
  const sent = typeof submitted === 'object' && submitted !== null ? submitted : {};
  return { ...state, use: 'recovery_code' in sent ? 'recovery_code' : 'code' };
}

function formStateOf(page: FormPage, body: ErrorBody, retryAfter: unknown, submitted: unknown): FormState {
  const fields: readonly string[] = FORM_FIELDS[page];
  const values: Record<string, string> = {};
  const sent = typeof submitted === 'object' && submitted !== null ? (submitted as Record<string, unknown>) : {};
  for (const field of fields) {
    if (!SECRET_FIELDS.has(field) && typeof sent[field] === 'string') values[field] = sent[field];
  }
  // A ticked "Keep me signed in" stays ticked (the page posts remember_me=false&remember_me=true;
  // a hand-made form may send "true" or "on" alone): the last value counts, as for the login.
  const remember = Array.isArray(sent.remember_me) ? (sent.remember_me as unknown[]).at(-1) : sent.remember_me;
  if (page === 'login' && (remember === 'true' || remember === 'on')) values.remember_me = 'true';
  const messages = Array.isArray(body.message) ? body.message : [body.message];
  const wait = seconds(retryAfter);
  if (body.statusCode === 400) {
    const fieldErrors: Record<string, string> = {};
    const other: string[] = [];
    for (const message of messages) {
      const field = /^(\w+) /.exec(message)?.[1];
      if (field && fields.includes(field) && !fieldErrors[field]) fieldErrors[field] = fieldSentence(field, message);
      else other.push(message);
    }
    const typed = Object.keys(fieldErrors).filter((field) => field !== 'token');
    if (fields.includes('token') && typed.length === 0) return { values, linkProblem: 'invalid' };
    const error = other.length > 0 ? other.join('. ') : 'Please correct the fields marked below.';
    return { values, fieldErrors, error };
  }
  if (body.statusCode === 403 && body.reason === 'email_not_verified')
    return { values, error: UNVERIFIED_SIGN_IN, offerResend: true };
  if (body.statusCode === 409 && fields.includes('email'))
    return { values, fieldErrors: { email: `${messages.join(' ')}.` } };
  if (body.statusCode === 429) return { values, error: `Too many attempts. Try again in ${waitText(wait ?? 60)}.` };
  if (body.statusCode === 503) return { values, error: `The server is busy. Try again in ${waitText(wait ?? 5)}.` };
  return { values, error: messages.join(' ') };
}

/**
 * Errors of a form route: for a browser's form post, the form again, with the message and the
 * typed values (never the password), under the status the JSON API would have given; for every
 * other client, the usual JSON error.
 */
@Catch()
abstract class FormPageFilter extends AllExceptionsFilter {
  protected abstract readonly page: FormPage;

  constructor(@Inject(FormPages) private readonly pages: FormPages) {
    super();
  }

  protected override send(host: ArgumentsHost, body: ErrorBody): void {
    const req = host.switchToHttp().getRequest<FastifyRequest>();
    if (!isBrowserFormPost(req)) return super.send(host, body);
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const state = formStateFor(this.page, body, reply.getHeader('retry-after'), req.body);
    void reply.status(body.statusCode).type('text/html; charset=utf-8').send(this.pages.render(this.page, state));
  }
}

// A class per form, given to UseFilters as a class: Nest then builds it with FormPages injected
// (an instance made in the decorator could not be).
@Catch()
class LoginFormFilter extends FormPageFilter {
  protected readonly page = 'login';
}

@Catch()
class SignupFormFilter extends FormPageFilter {
  protected readonly page = 'signup';
}

@Catch()
class ForgotPasswordFormFilter extends FormPageFilter {
  protected readonly page = 'forgot_password';
}

@Catch()
class ResetPasswordFormFilter extends FormPageFilter {
  protected readonly page = 'reset_password';
}

@Catch()
class VerifyEmailFormFilter extends FormPageFilter {
  protected readonly page = 'verify_email';
}

@Catch()
class SecondFactorFormFilter extends FormPageFilter {
  protected readonly page = 'login_second_factor';
}

const FORM_FILTERS: Record<FormPage, new (pages: FormPages) => FormPageFilter> = {
  login: LoginFormFilter,
  signup: SignupFormFilter,
  forgot_password: ForgotPasswordFormFilter,
  reset_password: ResetPasswordFormFilter,
  verify_email: VerifyEmailFormFilter,
  login_second_factor: SecondFactorFormFilter,
};

/** A form's "type it again" field and the field it repeats. */
const CONFIRMATIONS: Partial<Record<FormPage, { field: string; of: string; message: string }>> = {
  reset_password: {
    field: 'confirm_password',
    of: 'new_password',
    message: 'confirm_password must be the same as the new password',
  },
};

/**
 * A page's script checks that a new password was typed the same twice before it posts JSON; a
 * plain form can only post both, so for a browser's form post the server compares them, and
 * takes the repeat out of the body before it is validated (the JSON API has no such field and
 * refuses it, as any unknown field). Interceptors run before pipes, and their errors reach the
 * route's form filter, which shows the page again.
 */
class ConfirmFieldInterceptor implements NestInterceptor {
  constructor(private readonly confirm: { field: string; of: string; message: string }) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    const body = req.body as Record<string, unknown> | undefined;
    if (isBrowserFormPost(req) && typeof body === 'object' && body !== null && this.confirm.field in body) {
      const { [this.confirm.field]: repeat, ...rest } = body;
      if (repeat !== body[this.confirm.of]) throw new BadRequestException([this.confirm.message]);
      req.body = rest;
    }
    return next.handle();
  }
}

/**
 * Lets a JSON route also serve a plain HTML form (no JavaScript needed): a browser's form post is
 * redirected to `redirectTo` on success and, where `page` is given, shown that form again on error.
 */
export function BrowserForm(options: { redirectTo: string; page?: FormPage }) {
  const onError = options.page
    ? ` On an error it gets the ${options.page} page again (text/html) with the message, under the same status.`
    : '';
  const confirm = options.page ? CONFIRMATIONS[options.page] : undefined;
  return applyDecorators(
    UseInterceptors(new FormRedirectInterceptor(options.redirectTo)),
    ...(confirm ? [UseInterceptors(new ConfirmFieldInterceptor(confirm))] : []),
    ...(options.page ? [UseFilters(FORM_FILTERS[options.page])] : []),
    ApiResponse({
      status: 303,
      description: `A browser's HTML form post (URL-encoded, \`Accept: text/html\`) is redirected to \`${options.redirectTo}\` instead.${onError}`,
      headers: { Location: { description: options.redirectTo, schema: { type: 'string' } } },
    }),
  );
}
