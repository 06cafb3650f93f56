/**
 * The contract's input rules (API.md), checked in the browser as the user types so mistakes show
 * before a round trip. The server checks them again: these only spare the user a wait.
 */
const encoder = new TextEncoder();
const codePoints = (text) => [...text].length;
const bytes = (text) => encoder.encode(text).length;
// The shape browsers use for type=email, close to what the server's validator accepts.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const RULES = {
  name(value) {
    const name = value.trim();
    if (!name) return 'Enter your name.';
    if (codePoints(name) > 100) return `Use at most 100 characters (this is ${codePoints(name)}).`;
    return '';
  },
  phone(value) {
    if (!value) return 'Enter your phone number.';
    if (!/^[0-9 +\-()]*$/.test(value)) return 'Use only digits, spaces, +, -, ( and ).';
    if (value.length < 7 || value.length > 20) return 'Use 7 to 20 characters.';
    return '';
  },
  email(value) {
    const email = value.trim();
    if (!email) return 'Enter your email address.';
    if (email.length > 254 || !EMAIL.test(email)) return 'Enter an email address like name@example.com.';
    return '';
  },
  /**
   * A password that is being chosen: the server's rule, 8 to 72 bytes of UTF-8 counted on the NFC
   * form (bcrypt reads at most 72). Told in characters, as a person counts: one byte is one
   * character from A–Z, digits or ASCII punctuation, and everything else counts as 2 to 4 (an emoji
   * made of several, more), so the count is said whenever it differs from what was typed.
   */
  newPassword(value) {
    if (!value) return 'Choose a password.';
    const n = bytes(value.normalize('NFC'));
    if (n >= 8 && n <= 72) return '';
    const count =
      n === codePoints(value) ? `this is ${n}` : `this counts as ${n}: letters beyond A–Z and emoji count as 2 or more`;
    return n < 8 ? `Use at least 8 characters (${count}).` : `Use at most 72 characters (${count}).`;
  },
  /** A password that is being proved: anything non-empty. */
  password(value) {
    return value ? '' : 'Enter your password.';
  },
};

/** Shows (or clears) a field's message beside it, and marks the input for assistive technology. */
export function setFieldError(input, message) {
  const slot = document.getElementById(`${input.id}-error`);
  if (slot) slot.textContent = message;
  input.setAttribute('aria-invalid', message ? 'true' : 'false');
}

/**
 * Checks each field as the user types, once they have left it (or tried to submit), so nobody is
 * told off for an address they are still typing. Returns a function that checks them all.
 */
export function liveValidation(form, rules) {
  const inputs = Object.keys(rules).map((name) => form.elements.namedItem(name));
  const touched = new Set();
  const check = (input) => {
    const message = rules[input.name](input.value);
    setFieldError(input, message);
    return message === '';
  };
  for (const input of inputs) {
    input.addEventListener('blur', () => {
      if (input.value !== '') touched.add(input);
      if (touched.has(input)) check(input);
    });
    input.addEventListener('input', () => {
      if (touched.has(input)) check(input);
    });
  }
  return function checkAll() {
    let firstBad;
    for (const input of inputs) {
      touched.add(input);
      if (!check(input) && !firstBad) firstBad = input;
    }
    firstBad?.focus();
    return firstBad === undefined;
  };
}
