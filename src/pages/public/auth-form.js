import { api, fieldOf, sentence } from './api.js';
import { secondStep } from './second-factor.js';
import { liveValidation, RULES, setFieldError } from './validation.js';
import { autofillSupported, cancelled, passkeyErrorText, passkeysSupported, usePasskey } from './webauthn.js';

/**
 * The sign-in and sign-up pages with JavaScript: fields checked as the user types, the form sent
 * as JSON, and every answer (a taken email, a wrong password, a throttled attempt and its wait, a
 * busy server) shown beside the form without a reload. Without JavaScript the same form posts as
 * a plain HTML form and the server answers with a page.
 *
 * The sign-in page also offers passkeys where the browser has WebAuthn: a "Sign in with a passkey"
 * button, and the passkeys of this site in the e-mail field's autofill (a conditional request,
 * started on load where the browser supports it). When the password was right but the account
 * asks for a second step, the page shows that step's form in place of the password's.
 */
const form = document.getElementById('auth-form');
const kind = form.dataset.kind;
const formError = document.getElementById('form-error');
const notice = document.getElementById('notice');
const submit = form.querySelector('button[type="submit"]');
const rules =
  kind === 'signup'
    ? { name: RULES.name, phone: RULES.phone, email: RULES.email, password: RULES.newPassword }
    : { email: RULES.email, password: RULES.password };
const fields = Object.keys(rules);
const checkAll = liveValidation(form, rules);

form.noValidate = true;
let blockedUntil = 0;

function showError(message) {
  formError.textContent = message;
}

/* The sign-in page's offer, when the address is not verified yet: the verification link again. */
const resendForm = document.getElementById('resend-form');
let resendBlockedUntil = 0;

resendForm?.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (Date.now() < resendBlockedUntil) return;
  const button = resendForm.querySelector('button[type="submit"]');
  button.disabled = true;
  const answer = await api('POST', '/resend_verification', { email: resendForm.elements.namedItem('email').value });
  button.disabled = false;
  if (answer.ok) {
    resendForm.hidden = true;
    showError('');
    notice.textContent = resendForm.dataset.sent;
    return;
  }
  if (answer.status === 429 && answer.retryAfter) {
    resendBlockedUntil = Date.now() + answer.retryAfter * 1000;
    button.disabled = true;
    setTimeout(() => (button.disabled = false), answer.retryAfter * 1000);
  }
  showError(answer.message);
});

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (Date.now() < blockedUntil) return;
  showError('');
  if (notice) notice.textContent = '';
  if (resendForm) resendForm.hidden = true;
  if (!checkAll()) return;

  const values = Object.fromEntries(fields.map((name) => [name, form.elements.namedItem(name).value]));
  // Sent either way, so an unticked box means "until the browser closes" (as the hidden field makes a plain post say).
  const remember = form.querySelector('input[type="checkbox"][name="remember_me"]');
  if (remember) values.remember_me = remember.checked;
  submit.disabled = true;
  const answer = await api('POST', form.getAttribute('action'), values);
  submit.disabled = false;

  if (answer.ok && answer.body?.second_factor_required) {
    showSecondStep(answer.body.methods ?? []);
    return;
  }
  if (answer.ok) {
    location.assign(kind === 'signup' ? '/login_page?notice=account_created' : '/userpage');
    return;
  }
  if (answer.status === 400 && answer.body) {
    const messages = [].concat(answer.body.message ?? []);
    const rest = [];
    for (const message of messages) {
      const field = fieldOf(message, fields);
      if (field) setFieldError(form.elements.namedItem(field), sentence(message));
      else rest.push(message);
    }
    showError(rest.length ? rest.map(sentence).join(' ') : 'Please correct the fields marked below.');
    form.querySelector('[aria-invalid="true"]')?.focus();
    return;
  }
  if (answer.status === 403 && answer.body?.reason === 'email_not_verified') {
    // The same words as the page without JavaScript, with the offer of a new link to that address.
    showError(resendForm.dataset.refused);
    resendForm.elements.namedItem('email').value = values.email.trim();
    resendForm.hidden = false;
    return;
  }
  if (answer.status === 409) {
    const email = form.elements.namedItem('email');
    setFieldError(email, sentence(answer.message));
    email.focus();
    return;
  }
  if ((answer.status === 429 || answer.status === 503) && answer.retryAfter) {
    // Sending again before the wait is over would only be refused again.
    blockedUntil = Date.now() + answer.retryAfter * 1000;
    submit.disabled = true;
    setTimeout(() => (submit.disabled = false), answer.retryAfter * 1000);
  }
  showError(answer.message);
  if (answer.status === 401) form.elements.namedItem('password').select();
});

/* ---- Passkeys (the sign-in page only) ---- */

const passkeyBox = document.getElementById('passkey-signin');
const passkeyButton = document.getElementById('passkey-button');
/** The autofill's waiting request, aborted when the button starts one of its own. */
let autofill = null;

function rememberMe() {
  return form.querySelector('input[type="checkbox"][name="remember_me"]')?.checked ?? false;
}

/** The signed passkey response to the server, which starts the session (true) or says why not. */
async function signInWith(response) {
  const answer = await api('POST', '/login/passkey', { response, remember_me: rememberMe() });
  if (answer.ok) {
    location.assign('/userpage');
    return true;
  }
  showError(answer.status === 401 ? 'That passkey was not accepted. Try again, or use your password.' : answer.message);
  return false;
}

/** Waits for a passkey picked in the e-mail field's autofill; each pick is a new request. */
async function startAutofill() {
  if (!(await autofillSupported())) return;
  for (;;) {
    const controller = new AbortController();
    autofill = controller;
    const options = await api('POST', '/login/passkey_options');
    if (!options.ok || controller.signal.aborted) return;
    let response;
    try {
      response = await usePasskey(options.body, { mediation: 'conditional', signal: controller.signal });
    } catch (error) {
      if (!controller.signal.aborted && !cancelled(error)) showError(passkeyErrorText(error));
      return;
    }
    if (await signInWith(response)) return;
  }
}

passkeyButton?.addEventListener('click', async () => {
  autofill?.abort();
  showError('');
  passkeyButton.disabled = true;
  try {
    const options = await api('POST', '/login/passkey_options');
    if (!options.ok) {
      showError(options.message);
      return;
    }
    let response;
    try {
      response = await usePasskey(options.body);
    } catch (error) {
      showError(passkeyErrorText(error));
      return;
    }
    await signInWith(response);
  } finally {
    passkeyButton.disabled = false;
  }
});

if (kind === 'login' && passkeysSupported) {
  passkeyBox.hidden = false;
  void startAutofill();
}

/* ---- The second step ---- */

const secondStepBox = document.getElementById('second-step');
const step = secondStepBox ? secondStep({ showError, onSignedIn: () => location.assign('/userpage') }) : null;

/** The password was right and the account asks for more: its code (or a passkey) in place of the password. */
function showSecondStep(methods) {
  autofill?.abort();
  form.hidden = true;
  if (resendForm) resendForm.hidden = true;
  document.getElementById('signup-link').hidden = true;
  form.elements.namedItem('password').value = '';
  secondStepBox.hidden = false;
  passkeyBox.hidden = !(passkeysSupported && methods.includes('passkey'));
  document.getElementById('page-title').textContent = 'Two-step verification';
  step.focus();
}
