import type { AuthFailure } from '../auth/auth-failure';
import {
  UNVERIFIED_SIGN_IN,
  FORM_FIELDS,
  type FormPage,
  type FormState,
  type SecondFactorUse,
} from '../auth/browser-form';
import type { UserDto } from '../users/dto/user.dto';
import { breakableEmail, renderView, type SafeHtml } from './html';

/** Notices a page may be sent to show (`?notice=`): fixed words, so a link cannot make the page say anything else. */
export const NOTICES = {
  account_created: 'Account created. Sign in to continue.',
  signed_out: 'You have signed out.',
  verification_sent:
    'If that account still needs its e-mail address verified, we sent a new link to it. Use it, then sign in.',
} as const;

/**
 * The pages a mailed link (or the request for one) leads to: their titles, and the fixed words of
 * their one notice (`?notice=`), shown once the form has done its work.
 */
export const LINK_PAGES = {
  forgot_password: {
    title: 'Forgot password',
    notice: 'sent',
    text:
      'If an account uses this address, we sent it a link to choose a new password. ' +
      'The link works once and not for long: check your inbox (and the spam folder) now.',
  },
  reset_password: {
    title: 'Choose a new password',
    notice: 'done',
    text: 'Your new password is set, and every session of your account has been signed out. Sign in with the new password.',
  },
  verify_email: {
    title: 'Confirm your e-mail address',
    notice: 'done',
    text: 'Your e-mail address is verified.',
  },
} as const;
export type LinkPage = keyof typeof LINK_PAGES;

/** Why a mailed link's page shows no form. */
export const LINK_PROBLEMS = {
  missing: 'This link is incomplete. Open it again from your e-mail, or ask for a new one.',
  invalid: 'This link is invalid, has already been used or has expired.',
} as const;

/**
 * What a token in a link looks like (URL-safe characters). The page never looks it up: a GET
 * spends and checks nothing, since mail scanners fetch links; the post that uses it does.
 */
const TOKEN = /^[A-Za-z0-9_-]{16,512}$/;

/** The state of a mailed link's page opened with `?token=…&notice=…` (each ignored unless a plain string of the right form). */
export function linkPageState(page: LinkPage, query: { token?: unknown; notice?: unknown }): FormState {
  if (query.notice === LINK_PAGES[page].notice) return { notice: LINK_PAGES[page].text };
  if (page === 'forgot_password') return {};
  const token = typeof query.token === 'string' ? query.token : '';
  return { values: { token } };
}

/** Why the browser's last session ended, in words, for the sign-in page it is sent to. */
const ENDED: Record<AuthFailure, string> = {
  missing: '',
  invalid: 'Your session has ended. Sign in again.',
  logged_out: 'You have signed out.',
  revoked: 'You were signed out from another device.',
  expired: 'Your session expired. Sign in again.',
  idle_timeout: 'You were signed out after a period of inactivity.',
  account_disabled: 'This account has been disabled.',
  revoked_by_admin: 'An administrator ended your session. Sign in again.',
  password_reset: 'The password of this account was reset. Sign in with the new one.',
};

export function endedNotice(reason: AuthFailure | undefined): string {
  return reason ? ENDED[reason] : '';
}

export function noticeFor(key: unknown): string {
  return typeof key === 'string' && Object.hasOwn(NOTICES, key) ? NOTICES[key as keyof typeof NOTICES] : '';
}

function layout(page: string, title: string, body: SafeHtml): string {
  return renderView('layout', { page, title, body }).text;
}

const hiddenUnless = (shown: unknown): string => (shown ? '' : ' hidden');

/**
 * A mailed link's page: its form; once done, the notice instead (and where to go next); for a
 * token that is missing, malformed or was refused, what went wrong and how to get a new link.
 */
function linkPageValues(page: LinkPage, state: FormState, values: Record<string, string | SafeHtml>): void {
  const done = state.notice ?? '';
  values.notice = done;
  if (page === 'forgot_password') {
    values.sent_text = LINK_PAGES[page].text;
    values.form_hidden = hiddenUnless(!done);
    values.done_hidden = hiddenUnless(done);
    return;
  }
  const token = state.values?.token ?? '';
  const problem = done
    ? undefined
    : (state.linkProblem ?? (token === '' ? 'missing' : TOKEN.test(token) ? undefined : 'invalid'));
  if (problem) values.error = LINK_PROBLEMS[problem];
  values.token = problem ? '' : token;
  values.done_text = LINK_PAGES[page].text;
  values.invalid_text = LINK_PROBLEMS.invalid;
  values.form_hidden = hiddenUnless(!done && !problem);
  values.new_link_hidden = hiddenUnless(problem);
  values.done_hidden = hiddenUnless(done);
}

const FORM_TITLES: Record<'login' | 'signup', string> = { login: 'Sign in', signup: 'Create an account' };

/** `?use=` of the second-factor page: the recovery code, or (anything else) the app's code. */
export function secondFactorUse(query: unknown): SecondFactorUse {
  return query === 'recovery_code' ? 'recovery_code' : 'code';
}

/**
 * The second step's form: the authenticator app's code, or a recovery code, one field shown (the
 * other hidden and disabled, so a plain post sends one). The page's script switches in place;
 * without it, the link reloads the page with the other field (`?use=recovery_code`).
 */
function secondFactorForm(state: FormState): SafeHtml {
  const use = state.use ?? 'code';
  const values: Record<string, string> = {};
  for (const field of FORM_FIELDS.login_second_factor) {
    const error = state.fieldErrors?.[field] ?? '';
    const shown = field === use;
    values[`${field}_hidden`] = hiddenUnless(shown);
    values[`${field}_link_hidden`] = hiddenUnless(!shown);
    values[`${field}_disabled`] = shown ? '' : ' disabled';
    values[`${field}_error`] = error;
    values[`${field}_invalid`] = error ? 'true' : 'false';
  }
  return renderView('second_factor', values);
}

export function renderFormPage(page: FormPage, state: FormState = {}): string {
  if (page === 'login_second_factor') {
    const body = renderView('login_second_factor', {
      notice: state.notice ?? '',
      error: state.error ?? '',
      second_factor: secondFactorForm(state),
    });
    return layout('page-login_second_factor', 'Two-step verification', body);
  }
  const values: Record<string, string | SafeHtml> = { error: state.error ?? '' };
  for (const field of FORM_FIELDS[page]) {
    if (field === 'token') continue;
    const error = state.fieldErrors?.[field] ?? '';
    if (!/password/.test(field)) values[field] = state.values?.[field] ?? '';
    values[`${field}_error`] = error;
    values[`${field}_invalid`] = error ? 'true' : 'false';
  }
  if (page === 'login') {
    values.notice = state.notice ?? '';
    values.remember_me_checked = state.values?.remember_me === 'true' ? ' checked' : '';
    values.resend_hidden = hiddenUnless(state.offerResend);
    values.refused_text = UNVERIFIED_SIGN_IN;
    values.sent_text = NOTICES.verification_sent;
    values.second_factor = secondFactorForm({});
  }
  if (page === 'login' || page === 'signup') return layout(`page-${page}`, FORM_TITLES[page], renderView(page, values));
  linkPageValues(page, state, values);
  return layout(`page-${page}`, LINK_PAGES[page].title, renderView(page, values));
}

/** A UTC time a person reads before the page's script (if any) shows it in their own zone. */
function readableTime(iso: string | null): string {
  return iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : 'never';
}

export function renderDashboard(user: UserDto, activeSessions: number): string {
  const body = renderView('dashboard', {
    name: user.name,
    email: user.email,
    email_breakable: breakableEmail(user.email),
    phone: user.phone,
    created_at: user.created_at,
    created_at_text: readableTime(user.created_at).slice(0, 10),
    active_sessions: String(activeSessions),
    active_sessions_unit: activeSessions === 1 ? 'device' : 'devices',
    unverified_hidden: hiddenUnless(!user.email_verified),
  });
  return layout('page-dashboard', 'Your account', body);
}
