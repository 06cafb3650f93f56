import { api, fieldOf, fieldSentence, sentence, sessionEnded } from './api.js';
import {
  countryName,
  describeDevice,
  deviceFromUserAgent,
  localizeTimes,
  refreshRelativeTimes,
  setTime,
} from './format.js';
import { liveValidation, RULES, setFieldError } from './validation.js';
import { createPasskey, passkeyErrorText, passkeysSupported, usePasskey } from './webauthn.js';

/**
 * The dashboard: the caller's sessions (end one, end all others), recent sign-in attempts, a
 * password change, the global room and private conversations. Everything a user typed is shown
 * with textContent, never as HTML. The page checks its own session every 30 seconds and whenever
 * it regains focus; once the session has ended (from another device, by expiry, ...) it goes to
 * the sign-in page, which tells the browser why (it reads the ended session's cookie). Shortly
 * before the session ends it says so; ending other sessions, and changing the ways to sign in
 * (passkeys, the authenticator app), may first ask for the password (or a passkey) again.
 */
const POLL_MS = 30_000;
/** How long before the session ends the page warns. */
const WARN_MS = 120_000;
const PAGE_SIZE = 20;
const $ = (id) => document.getElementById(id);

let me = null;
let leaving = false;

function leave(location = '/login_page') {
  if (leaving) return;
  leaving = true;
  window.location.replace(location);
}

/** Every call of the page: a 401 from the session guard means this session is over. */
async function call(method, path, body) {
  const answer = await api(method, path, body);
  if (sessionEnded(answer)) leave();
  return answer;
}

function row(templateId) {
  return $(templateId).content.firstElementChild.cloneNode(true);
}

function say(message) {
  $('page-status').textContent = message;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/* ---- Sessions ---- */

async function loadSessions() {
  const answer = await call('GET', '/active_sessions');
  const list = $('session-list');
  list.setAttribute('aria-busy', 'false');
  if (!answer.ok) {
    $('sessions-error').textContent = answer.message;
    return;
  }
  $('sessions-error').textContent = '';
  const sessions = answer.body.sessions;
  list.replaceChildren(...sessions.map(sessionRow));
  $('session-count').textContent = String(sessions.length);
  $('session-count-unit').textContent = sessions.length === 1 ? 'device' : 'devices';
  $('end-others').hidden = sessions.length < 2;
}

/** A country before an address ("Germany · 203.0.113.9"); nothing when it is not known. */
function showCountry(element, code) {
  element.hidden = !code;
  element.textContent = code ? `${countryName(code)} · ` : '';
  if (code) element.title = code;
}

/**
 * How a session ends, as one phrase around its <time>: the session's own end (`expires_at`, fixed
 * at sign-in) and the cookie's, which the login's remember_me chose. Without "Keep me signed in"
 * the browser drops the cookie when it closes, so the time is only the latest end; with it the
 * cookie lasts as long as the session; not asked (an API client), the cookie lasts too.
 */
const ENDS = {
  false: ['ends when the browser closes, or ', ' at the latest'],
  true: ['kept signed in, ends ', ''],
};

/** RFC 8176's names for how a session was made, in words; `mfa` only says there were two. */
const METHOD_WORDS = { pwd: 'Password', otp: 'authenticator app', hwk: 'Passkey', swk: 'Passkey' };

/** "Password", "Password + authenticator app", "Passkey": a session's amr, in the order proved. */
function methodsInWords(amr) {
  const words = [...new Set((amr ?? []).map((method) => METHOD_WORDS[method]).filter(Boolean))];
  const text = words.join(' + ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function sessionRow(session) {
  const item = row('session-row');
  const device = describeDevice(session.device);
  item.dataset.sessionId = String(session.id);
  item.querySelector('.device-name').textContent = device;
  item.querySelector('.new-device').hidden = !session.new_device;
  const method = item.querySelector('.method');
  method.textContent = methodsInWords(session.amr);
  method.hidden = method.textContent === '';
  method.title = 'How this session was signed in';
  showCountry(item.querySelector('.country'), session.location?.country);
  item.querySelector('.ip').textContent = session.ip_address ?? 'unknown address';
  setTime(item.querySelector('.login-time'), session.login_time);
  setTime(item.querySelector('.last-activity'), session.last_activity);
  const expires = item.querySelector('.expires');
  setTime(expires, session.expires_at);
  const [before, after] = ENDS[String(session.remember_me)] ?? ['ends ', ''];
  item.querySelector('.ends').replaceChildren(before, expires, after);
  const button = item.querySelector('.end-session');
  if (session.current) {
    // This browser's own session: the page's "Sign out" ends it, so the row has no second button
    // that looks the same and seems to do something else (ending the current session is a logout).
    item.classList.add('current');
    item.querySelector('.this-device').hidden = false;
    button.remove();
    return item;
  }
  button.setAttribute('aria-label', `Sign out ${device}`);
  button.addEventListener('click', () => endSession(session, device, button));
  return item;
}

async function endSession(session, device, button) {
  button.disabled = true;
  $('sessions-error').textContent = '';
  const answer = await withReauth(`Enter your password to sign out ${device}.`, () =>
    call('DELETE', `/active_sessions/${session.id}`),
  );
  if (answer === null) {
    button.disabled = false;
    button.focus();
    return;
  }
  if (answer.status === 204) say(`Signed out ${device}.`);
  else if (answer.status === 404) say('That session had already ended.');
  else {
    button.disabled = false;
    $('sessions-error').textContent = answer.message;
    return;
  }
  await loadSessions();
}

$('end-others').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  $('sessions-error').textContent = '';
  const answer = await withReauth('Enter your password to sign out all your other sessions.', () =>
    call('DELETE', '/active_sessions'),
  );
  button.disabled = false;
  if (answer === null) {
    button.focus();
    return;
  }
  if (!answer.ok) {
    $('sessions-error').textContent = answer.message;
    return;
  }
  say(`Signed out ${plural(answer.body.revoked, 'other session')}.`);
  await loadSessions();
});

/* ---- Proving the password again ---- */

/** True for the server's "prove your password first" refusal; nothing was ended then. */
function needsReauth(answer) {
  return answer.status === 403 && answer.body?.reason === 'reauthentication_required';
}

/**
 * Runs `action`; when the server wants the password proved again first, asks for it and runs
 * `action` once more. Resolves to the action's answer, or null when the person cancelled.
 */
async function withReauth(why, action) {
  const answer = await action();
  if (!needsReauth(answer)) return answer;
  return (await askPassword(why)) ? action() : null;
}

const reauth = $('reauth');
const reauthForm = $('reauth-form');
const reauthPassword = $('reauth-password');
const reauthError = $('reauth-error');
let reauthDone = null;
let reauthBlockedUntil = 0;

function setReauthError(message) {
  reauthError.textContent = message;
  reauthPassword.setAttribute('aria-invalid', message ? 'true' : 'false');
}

/** Opens the password prompt (a modal dialog: focus moves into it, Escape cancels); resolves true once proved. */
function askPassword(why) {
  $('reauth-text').textContent = why;
  reauthForm.reset();
  setReauthError('');
  // A passkey proves it as well as the password does, where the browser can use one and the account has one.
  $('reauth-passkey').hidden = !(passkeysSupported && passkeyCount > 0);
  reauth.showModal();
  reauthPassword.focus();
  return new Promise((resolve) => {
    reauthDone = resolve;
  });
}

function closeReauth(proved) {
  const done = reauthDone;
  reauthDone = null;
  if (reauth.open) reauth.close();
  done?.(proved);
}

// Escape (the dialog's own cancel) and the Cancel button both resolve the prompt as cancelled.
reauth.addEventListener('close', () => closeReauth(false));
$('reauth-cancel').addEventListener('click', () => closeReauth(false));

reauthForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (Date.now() < reauthBlockedUntil) return;
  if (!reauthPassword.value) {
    setReauthError('Enter your password.');
    reauthPassword.focus();
    return;
  }
  const submit = reauthForm.querySelector('button[type="submit"]');
  submit.disabled = true;
  const answer = await call('POST', '/reauthenticate', { password: reauthPassword.value });
  submit.disabled = false;
  if (answer.ok) return closeReauth(true);
  if (answer.status === 401) {
    setReauthError('That is not your password.');
    reauthPassword.select();
    return;
  }
  if (answer.status === 429 && answer.retryAfter) {
    // Trying again before the wait is over would only be refused again.
    reauthBlockedUntil = Date.now() + answer.retryAfter * 1000;
    submit.disabled = true;
    setTimeout(() => (submit.disabled = false), answer.retryAfter * 1000);
  }
  setReauthError(answer.message);
});

$('reauth-passkey-button').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  setReauthError('');
  button.disabled = true;
  try {
    const options = await call('POST', '/reauthenticate/passkey_options');
    if (!options.ok) {
      setReauthError(options.message);
      return;
    }
    let response;
    try {
      response = await usePasskey(options.body);
    } catch (error) {
      setReauthError(passkeyErrorText(error));
      return;
    }
    const answer = await call('POST', '/reauthenticate/passkey', { response });
    if (answer.ok) return closeReauth(true);
    setReauthError(answer.status === 401 ? 'That passkey was not accepted.' : answer.message);
  } finally {
    button.disabled = false;
  }
});

/* ---- After a way to sign in was added or removed: the offer to end the other sessions ---- */

/**
 * The sessions signed in before the change stay signed in; the card offers to end them
 * ("End the 2 other sessions"), asking for the password again if need be.
 */
function offerEndOthers(offer, otherSessions) {
  offer.hidden = !(otherSessions > 0);
  if (offer.hidden) return;
  const button = offer.querySelector('button');
  button.textContent = `End the ${plural(otherSessions, 'other session')}`;
}

for (const offer of document.querySelectorAll('.offer')) {
  offer.querySelector('button').addEventListener('click', async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    const answer = await withReauth('Enter your password to sign out all your other sessions.', () =>
      call('DELETE', '/active_sessions'),
    );
    button.disabled = false;
    if (answer === null) {
      button.focus();
      return;
    }
    if (!answer.ok) {
      $('sessions-error').textContent = answer.message;
      return;
    }
    offer.hidden = true;
    say(`Signed out ${plural(answer.body.revoked, 'other session')}.`);
    await loadSessions();
  });
}

/* ---- Passkeys ---- */

let passkeyCount = 0;

async function loadPasskeys() {
  const answer = await call('GET', '/passkeys');
  const list = $('passkey-list');
  list.setAttribute('aria-busy', 'false');
  if (!answer.ok) {
    $('passkeys-error').textContent = answer.message;
    return;
  }
  const passkeys = answer.body.passkeys;
  passkeyCount = passkeys.length;
  list.replaceChildren(...passkeys.map(passkeyRow));
  if (passkeys.length === 0) list.append(emptyNote('No passkeys yet.'));
}

function passkeyRow(passkey) {
  const item = row('passkey-row');
  const name = passkey.name || 'Passkey';
  item.dataset.passkeyId = String(passkey.id);
  item.querySelector('.name').textContent = name;
  item.querySelector('.synced').hidden = !passkey.backed_up;
  setTime(item.querySelector('.created'), passkey.created_at);
  item.querySelector('.made-on').textContent = describeDevice(passkey.device);
  setTime(item.querySelector('.last-used'), passkey.last_used_at);
  const rename = item.querySelector('.rename');
  const remove = item.querySelector('.remove');
  rename.setAttribute('aria-label', `Rename ${name}`);
  remove.setAttribute('aria-label', `Remove ${name}`);
  remove.addEventListener('click', () => removePasskey(passkey, name, remove));

  const form = item.querySelector('.rename-form');
  const input = form.querySelector('.rename-input');
  const label = form.querySelector('.rename-label');
  const error = form.querySelector('.rename-error');
  input.id = `rename-${passkey.id}`;
  label.htmlFor = input.id;
  error.id = `${input.id}-error`;
  input.setAttribute('aria-describedby', error.id);
  label.textContent = `New name for ${name}`;
  const showForm = (shown) => {
    form.hidden = !shown;
    rename.hidden = shown;
    remove.hidden = shown;
    if (shown) {
      input.value = name;
      setFieldError(input, '');
      input.select();
    } else rename.focus();
  };
  rename.addEventListener('click', () => showForm(true));
  form.querySelector('.rename-cancel').addEventListener('click', () => showForm(false));
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') showForm(false);
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value) {
      setFieldError(input, 'Enter a name.');
      input.focus();
      return;
    }
    const answer = await call('PATCH', `/passkeys/${passkey.id}`, { name: value });
    if (!answer.ok) {
      setFieldError(input, answer.status === 400 ? fieldSentence(answer.message) : answer.message);
      input.focus();
      return;
    }
    $('passkeys-notice').textContent = `Renamed to “${answer.body.passkey.name}”.`;
    await loadPasskeys();
    $('passkey-list').querySelector(`[data-passkey-id="${passkey.id}"] .rename`)?.focus();
  });
  return item;
}

function passkeysMessage(notice, error = '') {
  $('passkeys-notice').textContent = notice;
  $('passkeys-error').textContent = error;
}

$('add-passkey').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  passkeysMessage('');
  $('passkeys-offer').hidden = true;
  button.disabled = true;
  try {
    const options = await withReauth('Enter your password to add a passkey.', () =>
      call('POST', '/passkeys/registration_options'),
    );
    if (options === null) return button.focus();
    if (!options.ok) return passkeysMessage('', options.message);
    let response;
    try {
      response = await createPasskey(options.body);
    } catch (error) {
      return passkeysMessage('', passkeyErrorText(error));
    }
    const answer = await withReauth('Enter your password to add a passkey.', () =>
      call('POST', '/passkeys', { response }),
    );
    if (answer === null) return button.focus();
    if (!answer.ok) return passkeysMessage('', answer.message);
    passkeysMessage(`Passkey added: “${answer.body.passkey.name}”. You can sign in with it from now on.`);
    offerEndOthers($('passkeys-offer'), answer.body.other_sessions);
    await loadPasskeys();
  } finally {
    button.disabled = false;
  }
});

async function removePasskey(passkey, name, button) {
  passkeysMessage('');
  $('passkeys-offer').hidden = true;
  button.disabled = true;
  const answer = await withReauth(`Enter your password to remove ${name}.`, () =>
    call('DELETE', `/passkeys/${passkey.id}`),
  );
  button.disabled = false;
  if (answer === null) return button.focus();
  if (answer.status === 404) passkeysMessage('That passkey had already been removed.');
  else if (!answer.ok) return passkeysMessage('', answer.message);
  else {
    passkeysMessage(`Removed ${name}. It no longer signs you in.`);
    offerEndOthers($('passkeys-offer'), answer.body?.other_sessions);
  }
  await loadPasskeys();
  $('add-passkey').focus();
}

/* ---- Authenticator app ---- */

let totpOn = false;

function totpMessage(notice, error = '') {
  $('totp-notice').textContent = notice;
  $('totp-error').textContent = error;
}

function showTotpState(on) {
  totpOn = on;
  $('totp-state').textContent = on ? 'On' : 'Off';
  $('totp-state').classList.toggle('on', on);
  $('totp-off-actions').hidden = on || !$('totp-enrol').hidden;
  $('totp-on-actions').hidden = !on;
}

/** Whether the account has the app turned on, as the server says (GET /totp). */
async function loadTotp() {
  const answer = await call('GET', '/totp');
  if (!answer.ok) {
    $('totp-error').textContent = answer.message;
    return;
  }
  showTotpState(answer.body.enabled === true);
}

/** The ten codes, shown once: listed, and offered to copy or download as text. */
function showRecoveryCodes(codes) {
  $('recovery-list').replaceChildren(
    ...codes.map((code) => {
      const item = document.createElement('li');
      const text = document.createElement('code');
      text.textContent = code;
      item.append(text);
      return item;
    }),
  );
  const text = `Recovery codes for ${me.email} at ${location.host}. Each works once.\n\n${codes.join('\n')}\n`;
  const download = $('download-codes');
  if (download.href.startsWith('blob:')) URL.revokeObjectURL(download.href);
  download.href = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  $('copy-codes').onclick = async () => {
    try {
      await navigator.clipboard.writeText(text);
      $('copy-status').textContent = 'Copied.';
    } catch {
      $('copy-status').textContent = 'Could not copy: select the codes, or download them.';
    }
  };
  $('copy-status').textContent = '';
  $('recovery-codes').hidden = false;
  $('recovery-title').tabIndex = -1;
  $('recovery-title').focus();
}

$('codes-saved').addEventListener('click', () => {
  $('recovery-codes').hidden = true;
  $('recovery-list').replaceChildren();
  const download = $('download-codes');
  if (download.href.startsWith('blob:')) URL.revokeObjectURL(download.href);
  download.href = '#';
  (totpOn ? $('totp-new-codes') : $('totp-setup')).focus();
});

$('totp-setup').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  totpMessage('');
  $('totp-offer').hidden = true;
  button.disabled = true;
  const answer = await withReauth('Enter your password to set up an authenticator app.', () =>
    call('POST', '/totp/setup'),
  );
  button.disabled = false;
  if (answer === null) return button.focus();
  if (!answer.ok) return totpMessage('', answer.message);
  // The server's SVG as an image (data: URL): shown, never run or parsed into the page.
  const qr = new Image(200, 200);
  qr.className = 'qr';
  qr.alt = 'QR code to add this account to an authenticator app';
  qr.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(answer.body.qr_svg)}`;
  $('totp-qr-slot').replaceChildren(qr);
  $('totp-secret').textContent = answer.body.secret.replace(/(.{4})(?=.)/g, '$1 ');
  $('totp-uri').href = answer.body.otpauth_uri;
  $('totp-confirm-form').reset();
  setFieldError($('totp-code'), '');
  $('totp-enrol').hidden = false;
  $('totp-off-actions').hidden = true;
  $('totp-code').focus();
});

function closeEnrolment() {
  $('totp-enrol').hidden = true;
  $('totp-qr-slot').replaceChildren();
  $('totp-secret').textContent = '';
  $('totp-uri').href = '#';
  showTotpState(totpOn);
}

$('totp-cancel').addEventListener('click', () => {
  closeEnrolment();
  $('totp-setup').focus();
});

$('totp-confirm-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('totp-code');
  const code = input.value.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(code)) {
    setFieldError(input, 'Enter the 6 digits the app shows.');
    input.focus();
    return;
  }
  const submit = event.currentTarget.querySelector('button[type="submit"]');
  submit.disabled = true;
  const answer = await call('POST', '/totp/confirm', { code });
  submit.disabled = false;
  if (!answer.ok) {
    setFieldError(
      input,
      answer.status === 400 || answer.status === 401
        ? 'That code is not right. Enter the one the app shows now.'
        : answer.message,
    );
    input.select();
    return;
  }
  closeEnrolment();
  showTotpState(true);
  totpMessage('The authenticator app is on: each sign-in now asks for its code after your password.');
  offerEndOthers($('totp-offer'), answer.body.other_sessions);
  showRecoveryCodes(answer.body.recovery_codes);
});

$('totp-new-codes').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  totpMessage('');
  button.disabled = true;
  const answer = await withReauth('Enter your password to make new recovery codes.', () =>
    call('POST', '/recovery_codes'),
  );
  button.disabled = false;
  if (answer === null) return button.focus();
  if (!answer.ok) return totpMessage('', answer.message);
  totpMessage('New recovery codes made: the old ones no longer work.');
  showRecoveryCodes(answer.body.recovery_codes);
});

$('totp-disable').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  totpMessage('');
  $('totp-offer').hidden = true;
  button.disabled = true;
  const answer = await withReauth('Enter your password to turn off the authenticator app.', () =>
    call('DELETE', '/totp'),
  );
  button.disabled = false;
  if (answer === null) return button.focus();
  if (!answer.ok) return totpMessage('', answer.message);
  $('recovery-codes').hidden = true;
  showTotpState(false);
  totpMessage(
    'The authenticator app is off: signing in needs only your password (or a passkey). Its recovery codes no longer work.',
  );
  offerEndOthers($('totp-offer'), answer.body.other_sessions);
  $('totp-setup').focus();
});

/* ---- Sign-in attempts ---- */

const RESULTS = {
  ok: ['Signed in', 'ok'],
  bad_password: ['Wrong password', 'failed'],
  throttled: ['Blocked: too many attempts', 'throttled'],
  account_disabled: ['Account disabled', 'failed'],
  email_not_verified: ['Refused: e-mail address not confirmed', 'failed'],
};

async function loadActivity() {
  const answer = await call('GET', '/login_activity');
  const list = $('attempt-list');
  list.setAttribute('aria-busy', 'false');
  if (!answer.ok) {
    $('activity-error').textContent = answer.message;
    return;
  }
  $('activity-error').textContent = '';
  showPreviousLogin(answer.body.attempts);
  list.replaceChildren(
    ...answer.body.attempts.slice(0, 10).map((attempt) => {
      const item = row('attempt-row');
      const [words, kind] = RESULTS[attempt.reason] ?? [attempt.reason, attempt.success ? 'ok' : 'failed'];
      const result = item.querySelector('.result');
      result.textContent = words;
      result.classList.add(kind);
      item.classList.add(kind);
      item.querySelector('.attempt-device').textContent = describeDevice(deviceFromUserAgent(attempt.user_agent));
      item.querySelector('.new-device').hidden = !attempt.new_device;
      showCountry(item.querySelector('.country'), attempt.country);
      item.querySelector('.ip').textContent = attempt.ip_address ?? 'unknown address';
      setTime(item.querySelector('.when'), attempt.time);
      return item;
    }),
  );
}

/** The sign-in before this one, where it was from: the quickest way to notice someone else's. */
function showPreviousLogin(attempts) {
  const previous = attempts.filter((attempt) => attempt.success)[1];
  const slot = $('previous-login');
  slot.hidden = previous === undefined;
  if (!previous) return;
  setTime(slot.querySelector('time'), previous.time);
  const where = [previous.country ? countryName(previous.country) : null, previous.ip_address ?? 'unknown address'];
  slot.querySelector('.meta').textContent =
    `· ${describeDevice(deviceFromUserAgent(previous.user_agent))}, ${where.filter(Boolean).join(', ')}`;
}

/* ---- Password ---- */

const passwordForm = $('password-form');
const passwordRules = { current_password: RULES.password, new_password: RULES.newPassword };
const checkPasswords = liveValidation(passwordForm, passwordRules);

passwordForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  $('password-notice').textContent = '';
  $('password-form-error').textContent = '';
  if (!checkPasswords()) return;
  const current = passwordForm.elements.namedItem('current_password');
  const next = passwordForm.elements.namedItem('new_password');
  const submit = passwordForm.querySelector('button[type="submit"]');
  submit.disabled = true;
  const answer = await call('POST', '/change_password', { current_password: current.value, new_password: next.value });
  submit.disabled = false;
  if (answer.ok) {
    passwordForm.reset();
    $('password-notice').textContent = `Password changed. ${plural(answer.body.revoked, 'other session')} signed out.`;
    await loadSessions();
    return;
  }
  if (answer.status === 401) {
    setFieldError(current, 'That is not your current password.');
    current.select();
    return;
  }
  if (answer.status === 400 && answer.body) {
    const rest = [];
    for (const message of [].concat(answer.body.message ?? [])) {
      const field = fieldOf(message, Object.keys(passwordRules));
      if (field) setFieldError(passwordForm.elements.namedItem(field), sentence(message));
      else rest.push(sentence(message));
    }
    $('password-form-error').textContent = rest.join(' ');
    return;
  }
  $('password-form-error').textContent = answer.message;
});

/* ---- E-mail address ---- */

/**
 * The address as the server's page writes it (breakableEmail in pages.ts): wrapping before its "@"
 * first, then before a ".".
 */
function showEmail(address) {
  const slot = document.querySelector('.details .email');
  if (slot.textContent === address) return;
  const at = address.lastIndexOf('@');
  const parts = at > 0 ? [address.slice(0, at), address.slice(at)] : [address];
  const spans = parts.map((part) => {
    const span = document.createElement('span');
    part.split(/(?=\.)/).forEach((piece, i) => {
      if (i > 0) span.append(document.createElement('wbr'));
      span.append(piece);
    });
    return span;
  });
  slot.replaceChildren(...spans.flatMap((span, i) => (i > 0 ? [document.createElement('wbr'), span] : [span])));
  for (const input of document.querySelectorAll('input[autocomplete="username"]')) input.value = address;
}

/** The account as /session_status gives it: its address, and whether it is verified yet (the banner). */
function showAccount(user) {
  showEmail(user.email);
  $('verify-banner').hidden = user.email_verified;
}

let resendBlockedUntil = 0;

$('resend-verification').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  if (Date.now() < resendBlockedUntil) return;
  button.disabled = true;
  const answer = await call('POST', '/resend_verification');
  button.disabled = false;
  if (answer.ok) {
    $('verify-status').textContent = `We sent a new link to ${me.email}. The links sent before no longer work.`;
    return;
  }
  if (answer.status === 429 && answer.retryAfter) {
    resendBlockedUntil = Date.now() + answer.retryAfter * 1000;
    button.disabled = true;
    setTimeout(() => (button.disabled = false), answer.retryAfter * 1000);
  }
  $('verify-status').textContent = answer.message;
});

const emailForm = $('email-form');
const emailRules = { new_email: RULES.email, password: RULES.password };
const checkEmailForm = liveValidation(emailForm, emailRules);

emailForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  $('email-notice').textContent = '';
  $('email-form-error').textContent = '';
  if (!checkEmailForm()) return;
  const newEmail = emailForm.elements.namedItem('new_email');
  const password = emailForm.elements.namedItem('password');
  const address = newEmail.value.trim();
  const submit = emailForm.querySelector('button[type="submit"]');
  submit.disabled = true;
  const answer = await call('POST', '/change_email', { password: password.value, new_email: address });
  submit.disabled = false;
  if (answer.ok) {
    emailForm.reset();
    $('email-notice').textContent =
      `We sent a link to ${address}. Your address changes when you use it; until then it stays ${me.email}.`;
    await loadSessions();
    return;
  }
  if (answer.status === 401) {
    setFieldError(password, 'That is not your current password.');
    password.select();
    return;
  }
  if (answer.status === 409) {
    setFieldError(newEmail, sentence(answer.message));
    newEmail.focus();
    return;
  }
  if (answer.status === 400 && answer.body) {
    const rest = [];
    for (const message of [].concat(answer.body.message ?? [])) {
      const field = fieldOf(message, Object.keys(emailRules));
      if (field) setFieldError(emailForm.elements.namedItem(field), fieldSentence(message));
      else rest.push(sentence(message));
    }
    $('email-form-error').textContent = rest.join(' ');
    emailForm.querySelector('[aria-invalid="true"]')?.focus();
    return;
  }
  $('email-form-error').textContent = answer.message;
});

/* ---- Messages (shared by both chats) ---- */

function messageRow(message, { author, authorId, onReply }) {
  const item = row('message-row');
  const mine = authorId === me.id;
  item.dataset.messageId = String(message.id);
  if (mine) item.classList.add('mine');
  item.querySelector('.author').textContent = mine ? 'You' : author;
  setTime(item.querySelector('.when'), message.timestamp);
  item.querySelector('.message-text').textContent = message.message;
  const reply = item.querySelector('.reply');
  if (onReply && !mine) {
    reply.hidden = false;
    reply.setAttribute('aria-label', `Message ${author} privately`);
    reply.addEventListener('click', onReply);
  }
  return item;
}

/** One paged message list: newest page first, older pages on request, new messages appended. */
function messageList({ list, older, error, path, toRow }) {
  let oldest = null;
  let newest = null;
  const track = (messages) => {
    for (const m of messages) {
      oldest = oldest === null ? m.id : Math.min(oldest, m.id);
      newest = newest === null ? m.id : Math.max(newest, m.id);
    }
  };
  const nearBottom = () => list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const toBottom = () => {
    list.scrollTop = list.scrollHeight;
  };
  async function fetchPage(beforeId) {
    const query = `?limit=${PAGE_SIZE}${beforeId ? `&before_id=${beforeId}` : ''}`;
    const answer = await call('GET', `${path()}${query}`);
    list.setAttribute('aria-busy', 'false');
    error.textContent = answer.ok ? '' : answer.message;
    return answer.ok ? answer.body.messages : null;
  }
  const pager = {
    async reset() {
      oldest = newest = null;
      list.replaceChildren();
      const messages = await fetchPage();
      if (!messages) return;
      track(messages);
      list.replaceChildren(...messages.reverse().map(toRow));
      if (messages.length === 0) list.append(emptyNote('No messages yet.'));
      older.hidden = messages.length < PAGE_SIZE;
      toBottom();
    },
    async loadOlder() {
      const messages = await fetchPage(oldest);
      if (!messages) return;
      track(messages);
      const height = list.scrollHeight;
      list.prepend(...messages.reverse().map(toRow));
      list.scrollTop += list.scrollHeight - height;
      older.hidden = messages.length < PAGE_SIZE;
    },
    /** Appends what arrived since the last look (the newest page; a reset if more came than a page holds). */
    async refresh() {
      if (newest === null) return pager.reset();
      const messages = await fetchPage();
      if (!messages) return;
      const fresh = messages.filter((m) => m.id > newest);
      if (fresh.length === messages.length && fresh.length === PAGE_SIZE) return pager.reset();
      pager.append(fresh.reverse());
    },
    append(messages) {
      const follow = nearBottom();
      const unseen = messages.filter((m) => !list.querySelector(`[data-message-id="${m.id}"]`));
      if (unseen.length === 0) return;
      list.querySelector('.empty')?.remove();
      track(unseen);
      list.append(...unseen.map(toRow));
      if (follow) toBottom();
    },
  };
  older.addEventListener('click', () => pager.loadOlder());
  return pager;
}

function emptyNote(text) {
  const item = document.createElement('li');
  item.className = 'empty';
  item.textContent = text;
  return item;
}

/** A message composer: trimmed, 1–2000 characters, Enter sends and Shift+Enter starts a new line. */
function composer(form, error, send) {
  const box = form.elements.namedItem('message');
  box.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = box.value.trim();
    if (!text) {
      error.textContent = 'Write a message first.';
      box.focus();
      return;
    }
    if ([...text].length > 2000) {
      error.textContent = `A message holds at most 2000 characters (this is ${[...text].length}).`;
      return;
    }
    const submit = form.querySelector('button[type="submit"]');
    submit.disabled = true;
    const answer = await send(text);
    submit.disabled = false;
    error.textContent = answer.ok ? '' : answer.message;
    if (answer.ok) box.value = '';
    box.focus();
  });
}

/* ---- Global chat ---- */

const globalChat = messageList({
  list: $('global-messages'),
  older: $('global-older'),
  error: $('global-error'),
  path: () => '/global_chat',
  toRow: (m) =>
    messageRow(m, {
      author: m.user_name,
      authorId: m.user_id,
      onReply: () => openConversation({ id: m.user_id, name: m.user_name }),
    }),
});

composer($('global-form'), $('global-error'), async (text) => {
  const answer = await call('POST', '/global_chat', { message: text });
  if (answer.ok) globalChat.append([answer.body.message]);
  return answer;
});

/* ---- Private conversations ---- */

let partner = null;

/** GET /chats answers a page of conversations at a time; older ones come on request. */
const CONVERSATION_PAGE = 50;
let moreConversations = false;

function conversationRow({ user, last_message: last }) {
  const item = row('conversation-row');
  item.dataset.userId = String(user.id);
  item.dataset.lastId = String(last.id);
  const button = item.querySelector('button');
  button.querySelector('.who').textContent = user.name;
  button.querySelector('.preview').textContent = `${last.sender_id === me.id ? 'You: ' : ''}${last.message}`;
  setTime(button.querySelector('.when'), last.timestamp);
  button.dataset.userId = String(user.id);
  if (partner && partner.id === user.id) button.setAttribute('aria-current', 'true');
  button.addEventListener('click', () => openConversation(user));
  return item;
}

async function fetchConversations(before) {
  const answer = await call('GET', `/chats?limit=${CONVERSATION_PAGE}${before ? `&before=${before}` : ''}`);
  $('conversation-list').setAttribute('aria-busy', 'false');
  if (!answer.ok) {
    $('private-error').textContent = answer.message;
    return null;
  }
  return answer.body.conversations;
}

/**
 * The newest page of conversations. Rows of older pages already shown stay below it, unless their
 * conversation has a new message and so is on the newest page now.
 */
async function loadConversations() {
  const conversations = await fetchConversations();
  if (!conversations) return;
  const list = $('conversation-list');
  const full = conversations.length === CONVERSATION_PAGE;
  const onPage = new Set(conversations.map((c) => String(c.user.id)));
  const floor = full ? conversations[conversations.length - 1].last_message.id : 0;
  const kept = full
    ? [...list.children].filter((item) => Number(item.dataset.lastId) < floor && !onPage.has(item.dataset.userId))
    : [];
  list.replaceChildren(...conversations.map(conversationRow), ...kept);
  if (kept.length === 0) moreConversations = full;
  $('conversations-older').hidden = !moreConversations;
  $('private-hint').hidden = list.children.length > 0 && partner !== null;
}

async function loadOlderConversations() {
  const list = $('conversation-list');
  const shown = [...list.children].map((item) => Number(item.dataset.lastId)).filter((id) => id > 0);
  if (shown.length === 0) return loadConversations();
  const conversations = await fetchConversations(Math.min(...shown));
  if (!conversations) return;
  const listed = new Set([...list.children].map((item) => item.dataset.userId));
  list.append(...conversations.filter((c) => !listed.has(String(c.user.id))).map(conversationRow));
  moreConversations = conversations.length === CONVERSATION_PAGE;
  $('conversations-older').hidden = !moreConversations;
}

$('conversations-older').addEventListener('click', () => loadOlderConversations());

const privateChat = messageList({
  list: $('private-messages'),
  older: $('private-older'),
  error: $('private-error'),
  path: () => `/chats/${partner.id}`,
  toRow: (m) => messageRow(m, { author: partner.name, authorId: m.sender_id }),
});

async function openConversation(user) {
  partner = { id: user.id, name: user.name };
  $('conversation').hidden = false;
  $('conversation-title').textContent = `With ${user.name}`;
  $('private-label').textContent = `Private message to ${user.name}`;
  for (const button of $('conversation-list').querySelectorAll('button')) {
    button.setAttribute('aria-current', button.dataset.userId === String(user.id) ? 'true' : 'false');
  }
  $('private-hint').hidden = true;
  await privateChat.reset();
  $('private-message').focus();
}

composer($('private-form'), $('private-error'), async (text) => {
  const answer = await call('POST', '/chats', { receiver_id: partner.id, message: text });
  if (answer.ok) {
    privateChat.append([answer.body.chat]);
    await loadConversations();
  }
  return answer;
});

/* ---- The session's end ---- */

let expiry = null;
let expiryTimer = null;
let inputSincePoll = false;

function onInput() {
  inputSincePoll = true;
}
for (const type of ['pointerdown', 'keydown', 'wheel', 'touchstart']) {
  window.addEventListener(type, onInput, { passive: true, capture: true });
}

/**
 * When the session ends, in this browser's time: from /session_status's `expires_in` (so a
 * browser clock that is off does not matter) and, with an idle timeout, `idle_expires_at`, read
 * against the server's "now" (`expires_at` − `expires_in`).
 */
function readExpiry(status) {
  const now = Date.now();
  const expiresIn = status.expires_in * 1000;
  const ends = { at: now + expiresIn, idle: false };
  if (status.idle_expires_at) {
    const serverNow = Date.parse(status.expires_at ?? status.session.expires_at) - expiresIn;
    const idleAt = now + (Date.parse(status.idle_expires_at) - serverNow);
    if (idleAt < ends.at) return { at: idleAt, idle: true };
  }
  return ends;
}

function inWords(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds >= 90) return `${Math.round(seconds / 60)} minutes`;
  if (seconds >= 50) return 'about a minute';
  return 'less than a minute';
}

/** Shows, updates or hides the warning, and looks again when something is due. */
function showExpiry() {
  clearTimeout(expiryTimer);
  if (leaving || expiry === null) return;
  const left = expiry.at - Date.now();
  const warning = $('expiry-warning');
  if (left <= 0) {
    // Ended by now (give the server's clock a second): the check sends the page to sign in, saying why.
    expiryTimer = setTimeout(() => refresh({ force: true }), 1000);
    return;
  }
  if (left > WARN_MS) {
    warning.hidden = true;
    // A long wait is left to the next poll (timers cannot wait a month).
    if (left - WARN_MS < 2 * POLL_MS) expiryTimer = setTimeout(showExpiry, left - WARN_MS);
    return;
  }
  const text = expiry.idle
    ? `You will be signed out in ${inWords(left)} because this session has been inactive.`
    : `Your session ends in ${inWords(left)}. Sign in again to keep going.`;
  // Only a change of words is written, so a screen reader hears the alert once, not every second.
  if ($('expiry-text').textContent !== text) $('expiry-text').textContent = text;
  $('stay-signed-in').hidden = !expiry.idle;
  $('sign-in-again').hidden = expiry.idle;
  warning.hidden = false;
  expiryTimer = setTimeout(showExpiry, Math.min(left, 5000));
}

$('stay-signed-in').addEventListener('click', () => refresh({ force: true }));

let idleTimeoutSet = false;

function noteStatus(status) {
  me = status.user;
  showAccount(status.user);
  idleTimeoutSet = Boolean(status.idle_expires_at);
  expiry = readExpiry(status);
  showExpiry();
}

/* ---- Keeping the page true ---- */

let refreshing = null;
let again = false;

/**
 * Checks the session, then reloads what may have changed. Calls during a refresh fold into one
 * more. Each check counts as activity on the server, so with an idle timeout the timed poll skips
 * the server while nobody has touched the page since the last one: an unattended page lets the
 * session go idle (after a warning), as the timeout intends.
 */
async function refresh({ force = false } = {}) {
  if (leaving || me === null) return;
  if (!force && expiry !== null && idleTimeoutSet && !inputSincePoll) return showExpiry();
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      again = false;
      inputSincePoll = false;
      const status = await call('GET', '/session_status');
      if (!status.ok) return;
      noteStatus(status.body);
      await Promise.all([
        loadSessions(),
        loadActivity(),
        loadPasskeys(),
        loadTotp(),
        globalChat.refresh(),
        loadConversations(),
        partner ? privateChat.refresh() : null,
      ]);
      refreshRelativeTimes();
    } while (again && !leaving);
  })();
  try {
    await refreshing;
  } finally {
    refreshing = null;
  }
}

async function start() {
  localizeTimes();
  const status = await call('GET', '/session_status');
  if (!status.ok) {
    if (!leaving) say(status.message);
    return;
  }
  noteStatus(status.body);
  for (const section of document.querySelectorAll('[data-needs-js]')) section.hidden = false;
  $('add-passkey').hidden = !passkeysSupported;
  $('passkeys-unsupported').hidden = passkeysSupported;
  await Promise.all([
    loadSessions(),
    loadActivity(),
    loadPasskeys(),
    loadTotp(),
    globalChat.reset(),
    loadConversations(),
  ]);
  setInterval(refresh, POLL_MS);
  window.addEventListener('focus', () => refresh({ force: true }));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void refresh({ force: true });
  });
}

void start();
