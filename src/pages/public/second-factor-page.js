import { secondStep } from './second-factor.js';

/** /login_second_factor_page with JavaScript: the form sends JSON and shows each answer in place. */
const formError = document.getElementById('form-error');

secondStep({
  showError: (message) => (formError.textContent = message),
  onSignedIn: () => location.assign('/userpage'),
});
