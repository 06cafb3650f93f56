import { api, fieldOf, fieldSentence, sentence } from './api.js';
import { liveValidation, RULES, setFieldError } from './validation.js';

/**
 * The pages of the mailed links, with JavaScript: "Forgot password?" (an address), the reset page
 * (a new password, typed twice) and the verification page (one button). Each posts JSON to its API
 * route and shows the answer in place: done, a field to correct, a link that no longer works (and
 * where to get a new one), a wait. Without JavaScript the same forms post as plain HTML forms and
 * the server answers with these pages.
 */
const $ = (id) => document.getElementById(id);
const form = $('account-form');
const kind = form.dataset.kind;
const notice = $('notice');
const formError = $('form-error');
const submit = form.querySelector('button[type="submit"]');
const token = form.elements.namedItem('token');

// The token is in the form now: out of the address bar, history and anything copied from it.
if (new URLSearchParams(location.search).has('token')) history.replaceState(null, '', location.pathname);

const RULE_SETS = {
  forgot_password: { email: RULES.email },
  reset_password: {
    new_password: RULES.newPassword,
    confirm_password: (value) => {
      if (!value) return 'Type the new password again.';
      return value === form.elements.namedItem('new_password').value ? '' : 'The two passwords are not the same.';
    },
  },
  verify_email: {},
};
const rules = RULE_SETS[kind];
const fields = Object.keys(rules);
const checkAll = liveValidation(form, rules);
// Changing the first password re-checks the repeat once it has been typed.
form.elements.namedItem('new_password')?.addEventListener('input', () => {
  const repeat = form.elements.namedItem('confirm_password');
  if (repeat.value) setFieldError(repeat, rules.confirm_password(repeat.value));
});

form.noValidate = true;
let blockedUntil = 0;

/** The form's work is done: its words instead of the form, and where to go next. */
function showDone(text) {
  form.hidden = true;
  formError.textContent = '';
  $('done-links').hidden = false;
  notice.textContent = text;
  notice.focus();
}

/** The link's token was refused: no form, what went wrong, and where to get a new link. */
function showLinkProblem() {
  form.hidden = true;
  notice.textContent = '';
  formError.textContent = formError.dataset.invalid;
  $('new-link').hidden = false;
  $('new-link').querySelector('a').focus();
}

function body() {
  if (kind === 'forgot_password') return { email: form.elements.namedItem('email').value.trim() };
  if (kind === 'reset_password')
    return { token: token.value, new_password: form.elements.namedItem('new_password').value };
  return { token: token.value };
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (Date.now() < blockedUntil) return;
  formError.textContent = '';
  if (!checkAll()) return;
  submit.disabled = true;
  const answer = await api('POST', form.getAttribute('action'), body());
  submit.disabled = false;

  if (answer.ok) {
    showDone(kind === 'forgot_password' ? notice.dataset.sent : notice.dataset.done);
    return;
  }
  if (answer.status === 400 && answer.body) {
    const rest = [];
    for (const message of [].concat(answer.body.message ?? [])) {
      const field = fieldOf(message, fields);
      if (field) setFieldError(form.elements.namedItem(field), fieldSentence(message));
      else rest.push(message);
    }
    // Anything but a typed field is the link's token: unknown, used, expired or malformed.
    if (token && form.querySelector('[aria-invalid="true"]') === null) return showLinkProblem();
    formError.textContent = rest.map(sentence).join(' ');
    form.querySelector('[aria-invalid="true"]')?.focus();
    return;
  }
  if ((answer.status === 429 || answer.status === 503) && answer.retryAfter) {
    // Sending again before the wait is over would only be refused again.
    blockedUntil = Date.now() + answer.retryAfter * 1000;
    submit.disabled = true;
    setTimeout(() => (submit.disabled = false), answer.retryAfter * 1000);
  }
  formError.textContent = answer.message;
});
