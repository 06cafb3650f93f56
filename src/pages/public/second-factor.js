import { api, fieldOf, fieldSentence, sentence } from './api.js';
import { setFieldError } from './validation.js';

/**
 * The sign-in's second step, with JavaScript (on the sign-in page once the password was right,
 * and on /login_second_factor_page): the authenticator app's code or a recovery code, switched in
 * place, posted as JSON to /login/second_factor with the pending sign-in's cookie (Path=/login,
 * which the browser sends; no script can read it). Without JavaScript the same form posts as a
 * plain form and the server answers with a page.
 */
const $ = (id) => document.getElementById(id);
const FIELDS = ['code', 'recovery_code'];

const RULES = {
  code: (value) => (/^\d{6}$/.test(value) ? '' : 'Enter the 6 digits the app shows.'),
  recovery_code: (value) => (value ? '' : 'Enter one of your recovery codes.'),
};

/** What the person typed, as the server takes it: a code's digits without the spaces apps show. */
function cleaned(name, value) {
  return name === 'code' ? value.replace(/\s+/g, '') : value.trim();
}

/**
 * Wires the form. `showError` shows a message above it; `onSignedIn` is called once the session
 * exists (the caller goes to the dashboard).
 */
export function secondStep({ showError, onSignedIn }) {
  const form = $('second-factor-form');
  const submit = form.querySelector('button[type="submit"]');
  let use = FIELDS.find((name) => !$(name).disabled) ?? 'code';
  let blockedUntil = 0;
  form.noValidate = true;

  function switchTo(name) {
    use = name;
    for (const field of FIELDS) {
      const shown = field === name;
      $(`${field}-field`).hidden = !shown;
      $(field).disabled = !shown;
      $(`use-${field}`).hidden = shown;
      setFieldError($(field), '');
    }
    showError('');
    $(name).focus();
  }
  for (const field of FIELDS) {
    $(`use-${field}`).addEventListener('click', (event) => {
      event.preventDefault();
      switchTo(field);
    });
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (Date.now() < blockedUntil) return;
    showError('');
    const input = $(use);
    const value = cleaned(use, input.value);
    const problem = RULES[use](value);
    setFieldError(input, problem);
    if (problem) {
      input.focus();
      return;
    }
    submit.disabled = true;
    const answer = await api('POST', form.getAttribute('action'), { [use]: value });
    submit.disabled = false;
    if (answer.ok) {
      onSignedIn();
      return;
    }
    if (answer.status === 400 && answer.body) {
      const rest = [];
      for (const message of [].concat(answer.body.message ?? [])) {
        const field = fieldOf(message, FIELDS);
        if (field === use) setFieldError(input, fieldSentence(message));
        else rest.push(sentence(message));
      }
      showError(rest.join(' '));
      input.focus();
      return;
    }
    if ((answer.status === 429 || answer.status === 503) && answer.retryAfter) {
      blockedUntil = Date.now() + answer.retryAfter * 1000;
      submit.disabled = true;
      setTimeout(() => (submit.disabled = false), answer.retryAfter * 1000);
    }
    showError(answer.message);
    input.select();
  });

  return { focus: () => $(use).focus() };
}
