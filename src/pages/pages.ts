import type { AuthFailure } from '../auth/auth-failure';
import { FORM_FIELDS, type FormPage, type FormState } from '../auth/browser-form';
import type { UserDto } from '../users/dto/user.dto';
import { breakableEmail, renderView, type SafeHtml } from './html';

/** Notices a page may be sent to show (`?notice=`): fixed words, so a link cannot make the page say anything else. */
export const NOTICES = {
  account_created: 'Account created. Sign in to continue.',
  signed_out: 'You have signed out.',
} as const;

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

export function renderFormPage(page: FormPage, state: FormState = {}): string {
  const values: Record<string, string> = { error: state.error ?? '' };
  if (page === 'login') {
    values.notice = state.notice ?? '';
    values.remember_me_checked = state.values?.remember_me === 'true' ? ' checked' : '';
  }
  for (const field of FORM_FIELDS[page]) {
    const error = state.fieldErrors?.[field] ?? '';
    if (field !== 'password') values[field] = state.values?.[field] ?? '';
    values[`${field}_error`] = error;
    values[`${field}_invalid`] = error ? 'true' : 'false';
  }
  return layout(`page-${page}`, page === 'login' ? 'Sign in' : 'Create an account', renderView(page, values));
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
  });
  return layout('page-dashboard', 'Your account', body);
}
