import { breakableEmail, escapeHtml, renderView, SafeHtml } from './html';
import { formStateFor } from '../auth/browser-form';
import {
  endedNotice,
  LINK_PAGES,
  LINK_PROBLEMS,
  linkPageState,
  noticeFor,
  renderFormPage,
  secondFactorUse,
} from './pages';
import { errorBody } from '../common/http-error';

describe('page views', () => {
  it('escapes every value for element content and quoted attributes', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
  });

  it('inserts only rendered views unescaped', () => {
    const body = renderView('login', {
      notice: '',
      error: '<b>no</b>',
      email: '"><script>',
      email_error: '',
      email_invalid: 'false',
      password_error: '',
      password_invalid: 'false',
      remember_me_checked: '',
      resend_hidden: ' hidden',
      refused_text: '',
      sent_text: '',
      second_factor: new SafeHtml(''),
    });
    expect(body).toBeInstanceOf(SafeHtml);
    expect(body.text).toContain('&lt;b&gt;no&lt;/b&gt;');
    expect(body.text).toContain('value="&quot;&gt;&lt;script&gt;"');
    const page = renderView('layout', { page: 'x', title: 'T', body });
    expect(page.text).toContain(body.text);
  });

  it('lets an email address wrap before its "@" first, then before a ".", with every piece escaped', () => {
    expect(breakableEmail("o'brien.x@mail.example.com").text).toBe(
      '<span>o&#39;brien<wbr>.x</span><wbr><span>@mail<wbr>.example<wbr>.com</span>',
    );
    expect(breakableEmail('"a@b"@example.com').text).toBe(
      '<span>&quot;a@b&quot;</span><wbr><span>@example<wbr>.com</span>',
    );
    expect(breakableEmail('<no-at>').text).toBe('<span>&lt;no-at&gt;</span>');
  });

  it('fails loudly on a missing value or a value with no placeholder', () => {
    expect(() => renderView('layout', { page: 'x', title: 'T' })).toThrow('no value for {{body}}');
    expect(() => renderView('layout', { page: 'x', title: 'T', body: new SafeHtml(''), nmae: 'typo' })).toThrow(
      'no placeholder for nmae',
    );
  });

  it('renders every form page with no state', () => {
    expect(renderFormPage('login')).toContain('action="/login"');
    expect(renderFormPage('signup')).toContain('action="/signup"');
    expect(renderFormPage('forgot_password')).toContain('action="/forgot_password"');
    expect(renderFormPage('login')).toContain(
      '<a class="field-link" href="/forgot_password_page">Forgot password?</a>',
    );
    expect(renderFormPage('login')).toMatch(/<form id="resend-form"[^>]* hidden>/);
  });

  it("shows a mailed link's page as its form with the token, done, or what is wrong with the link", () => {
    const token = 'A'.repeat(43);
    for (const page of ['reset_password', 'verify_email'] as const) {
      const form = renderFormPage(page, linkPageState(page, { token }));
      expect(form).toContain(`<input type="hidden" name="token" value="${token}">`);
      expect(form).toMatch(/<form id="account-form" [^>]*data-kind="[a-z_]+">/);
      expect(form).toMatch(/<p class="form-error" id="form-error" role="alert" data-invalid="[^"]+"><\/p>/);
      expect(form).toMatch(/id="new-link" hidden>/);

      const done = renderFormPage(page, linkPageState(page, { token, notice: LINK_PAGES[page].notice }));
      expect(done).toContain(`tabindex="-1" data-done="${LINK_PAGES[page].text}">${LINK_PAGES[page].text}</p>`);
      expect(done).toMatch(/<form id="account-form" [^>]* hidden>/);
      expect(done).not.toContain(token);

      for (const [query, problem] of [
        [{}, 'missing'],
        [{ token: ['a', 'b'] }, 'missing'],
        [{ token: '<script>' }, 'invalid'],
        [{ token: 'short' }, 'invalid'],
        [{ token, notice: 'other' }, undefined],
      ] as const) {
        const html = renderFormPage(page, linkPageState(page, query));
        if (problem === undefined) {
          expect(html).toContain(`value="${token}"`);
          continue;
        }
        expect(html).toContain(`>${LINK_PROBLEMS[problem]}</p>`);
        expect(html).toMatch(/<form id="account-form" [^>]* hidden>/);
        expect(html).toMatch(/id="new-link">/);
        expect(html).toContain('<input type="hidden" name="token" value="">');
        expect(html).not.toContain('<script>');
      }
    }
    const sent = renderFormPage('forgot_password', linkPageState('forgot_password', { notice: 'sent' }));
    expect(sent).toContain(`>${LINK_PAGES.forgot_password.text}</p>`);
    expect(sent).toMatch(/<form id="account-form" [^>]* hidden>/);
  });

  it('shows fixed words only: known notices and end reasons', () => {
    expect(noticeFor('account_created')).toBe('Account created. Sign in to continue.');
    expect(noticeFor('constructor')).toBe('');
    expect(noticeFor(['account_created'])).toBe('');
    expect(endedNotice('revoked')).toBe('You were signed out from another device.');
    expect(endedNotice('missing')).toBe('');
    expect(endedNotice(undefined)).toBe('');
  });

  it('puts validation messages beside their fields and never keeps the password', () => {
    const body = errorBody(400, [
      'email must be an email address',
      'password must be between 8 and 72 bytes (UTF-8)',
      'property id should not exist',
    ]);
    const state = formStateFor('signup', body, undefined, { name: 'Ada', email: 'x', password: 'secret', id: '1' });
    expect(state.values).toEqual({ name: 'Ada', email: 'x' });
    expect(state.fieldErrors).toEqual({
      email: 'Email must be an email address.',
      password: 'Password must be between 8 and 72 bytes (UTF-8).',
    });
    expect(state.error).toBe('property id should not exist');
  });

  it('shows a refused token as a link problem, and new-password messages beside their fields without the passwords', () => {
    const submitted = { token: 'A'.repeat(43), new_password: 'short', confirm_password: 'short' };
    const bad = formStateFor('reset_password', errorBody(400, 'Invalid or expired token'), undefined, submitted);
    expect(bad).toEqual({ values: { token: submitted.token }, linkProblem: 'invalid' });
    const field = formStateFor(
      'reset_password',
      errorBody(400, ['new_password must be between 8 and 72 bytes (UTF-8)']),
      undefined,
      submitted,
    );
    expect(field.fieldErrors).toEqual({ new_password: 'New password must be between 8 and 72 bytes (UTF-8).' });
    const page = renderFormPage('reset_password', field);
    expect(page).not.toContain('short');
    expect(page).toContain(`value="${submitted.token}"`);
    expect(page).toMatch(/id="new_password"[^>]*aria-invalid="true"/);
    expect(formStateFor('verify_email', errorBody(400, ['token must be a string']), undefined, {}).linkProblem).toBe(
      'invalid',
    );
  });

  it('offers a new verification link when the sign-in is refused until the address is verified', () => {
    const body = errorBody(403, 'Email address not verified', { reason: 'email_not_verified' });
    const state = formStateFor('login', body, undefined, { email: 'a@b.example', password: 'x' });
    expect(state.offerResend).toBe(true);
    const page = renderFormPage('login', state);
    expect(page).toMatch(/<form id="resend-form"[^>]*data-sent="[^"]+">/);
    expect(page).toContain('<input type="hidden" name="email" value="a@b.example">');
    expect(formStateFor('login', errorBody(403, 'Account disabled'), undefined, {}).offerResend).toBeUndefined();
  });

  it('keeps "Keep me signed in" ticked when the sign-in form comes back with an error', () => {
    const wrong = errorBody(401, 'Invalid email or password');
    for (const ticked of ['true', 'on']) {
      const state = formStateFor('login', wrong, undefined, { email: 'a@b.c', password: 'x', remember_me: ticked });
      expect(state.values).toEqual({ email: 'a@b.c', remember_me: 'true' });
      expect(renderFormPage('login', state)).toMatch(/name="remember_me" type="checkbox" value="true" checked /);
    }
    const unticked = formStateFor('login', wrong, undefined, { email: 'a@b.c', password: 'x' });
    expect(renderFormPage('login', unticked)).toMatch(
      /name="remember_me" type="checkbox" value="true" aria-describedby/,
    );
  });

  it('tells the wait of a throttled or busy answer in words', () => {
    expect(formStateFor('login', errorBody(429, 'x'), '899', {}).error).toBe(
      'Too many attempts. Try again in 15 minutes.',
    );
    expect(formStateFor('login', errorBody(429, 'x'), '30', {}).error).toBe(
      'Too many attempts. Try again in 30 seconds.',
    );
    expect(formStateFor('login', errorBody(503, 'x'), '1', {}).error).toBe(
      'The server is busy. Try again in 1 second.',
    );
    expect(formStateFor('login', errorBody(401, 'Invalid email or password'), undefined, {}).error).toBe(
      'Invalid email or password',
    );
  });

  it("shows the second step's one field (the app's code or a recovery code), the other disabled, never a code typed", () => {
    const code = renderFormPage('login_second_factor', { use: secondFactorUse(undefined) });
    expect(code).toContain('<form id="second-factor-form" class="stack" method="post" action="/login/second_factor">');
    expect(code).toMatch(/<div class="field" id="code-field">/);
    expect(code).toMatch(/<div class="field" id="recovery_code-field" hidden>/);
    expect(code).toMatch(/id="recovery_code" name="recovery_code"[^>]* disabled>/);
    expect(code).toMatch(/id="code" name="code"[^>]*aria-describedby="code-hint code-error">/);
    expect(code).toMatch(/<a id="use-recovery_code" href="\/login_second_factor_page\?use=recovery_code">/);
    expect(code).toMatch(/<a id="use-code" href="\/login_second_factor_page" hidden>/);
    const recovery = renderFormPage('login_second_factor', { use: secondFactorUse('recovery_code') });
    expect(recovery).toMatch(/id="code" name="code"[^>]* disabled>/);
    expect(recovery).toMatch(/<div class="field" id="recovery_code-field">/);
    expect(secondFactorUse(['recovery_code'])).toBe('code');

    const wrong = formStateFor('login_second_factor', errorBody(401, 'Wrong code'), undefined, {
      recovery_code: 'abcd-efgh-ijkl',
    });
    expect(wrong).toEqual({ values: {}, error: 'Wrong code', use: 'recovery_code' });
    const page = renderFormPage('login_second_factor', wrong);
    expect(page).not.toContain('abcd-efgh-ijkl');
    expect(page).toContain('<p class="form-error" id="form-error" role="alert">Wrong code</p>');
    const invalid = formStateFor(
      'login_second_factor',
      errorBody(400, ['code must be the 6 digits the authenticator app shows']),
      undefined,
      { code: '12' },
    );
    expect(invalid.use).toBe('code');
    expect(renderFormPage('login_second_factor', invalid)).toMatch(/id="code"[^>]*aria-invalid="true"/);
    // The sign-in page holds the same form, hidden until the script shows it.
    expect(renderFormPage('login')).toMatch(
      /<div class="second-step stack" id="second-step" hidden>\s*<form id="second-factor-form"/,
    );
  });
});
