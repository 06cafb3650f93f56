/**
 * Words for what the API gives as data: a device from a user agent (ua-parser-js, loaded by the
 * page as /assets/vendor/ua-parser.min.js) and times as "5 minutes ago" with the exact time on hover.
 */
const APPLE_DEVICES = new Set(['iPhone', 'iPad', 'iPod']);

/** "Firefox 133 on Windows", "Safari on iPhone", "Chrome 131 on Android"; the raw agent if unknown. */
export function describeDevice(userAgent) {
  if (!userAgent) return 'Unknown device';
  const raw = userAgent.length > 60 ? `${userAgent.slice(0, 57)}…` : userAgent;
  const Parser = globalThis.UAParser;
  if (typeof Parser !== 'function') return raw;
  const { browser, os, device } = new Parser(userAgent).getResult();
  const apple = APPLE_DEVICES.has(device.model);
  const where = apple ? device.model : os.name === 'Mac OS' ? 'macOS' : os.name;
  if (!browser.name) return where ? `Unknown browser on ${where}` : raw;
  const name = browser.name.replace(/^Mobile /, '');
  // On a phone the version says little; on a computer it tells two installs apart.
  const version = !apple && browser.major ? ` ${browser.major}` : '';
  return where ? `${name}${version} on ${where}` : `${name}${version}`;
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const exact = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const day = new Intl.DateTimeFormat(undefined, { dateStyle: 'long' });
// Each unit from the length at which it reads better than the one below: "in 30 hours", not "tomorrow".
const UNITS = [
  ['year', 365 * 86400, 365 * 86400],
  ['month', 30 * 86400, 60 * 86400],
  ['week', 7 * 86400, 14 * 86400],
  ['day', 86400, 2 * 86400],
  ['hour', 3600, 3600],
  ['minute', 60, 0],
];

/** "just now", "5 minutes ago", "in 23 hours". */
export function relativeTime(date, now = Date.now()) {
  const seconds = Math.round((date.getTime() - now) / 1000);
  if (Math.abs(seconds) < 45) return seconds <= 0 ? 'just now' : 'in a moment';
  const [unit, size] = UNITS.find(([, , from]) => Math.abs(seconds) >= from);
  return relative.format(Math.round(seconds / size), unit);
}

/** Fills a <time>: the machine-readable value, the words, and the exact local time on hover. */
export function setTime(element, iso, format = 'relative') {
  if (!iso) {
    element.textContent = 'never';
    element.removeAttribute('datetime');
    return;
  }
  const date = new Date(iso);
  element.dateTime = iso;
  element.textContent = format === 'date' ? day.format(date) : relativeTime(date);
  element.title = exact.format(date);
}

/** The server writes times in UTC; show each <time data-format> in the reader's own words and zone. */
export function localizeTimes(root = document) {
  for (const element of root.querySelectorAll('time[data-format]')) {
    setTime(element, element.getAttribute('datetime'), element.dataset.format);
  }
}

/** Keeps relative times true while the page stays open. */
export function refreshRelativeTimes(root = document) {
  for (const element of root.querySelectorAll('time[datetime]')) {
    if (element.dataset.format !== 'date') element.textContent = relativeTime(new Date(element.dateTime));
  }
}
