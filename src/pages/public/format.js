/**
 * Words for what the API gives as data: a device ("Firefox on Linux (desktop)"), a country, and
 * times as "5 minutes ago" with the exact time on hover.
 */

/** Names as people know them, where the parser's differ. */
const OS_NAMES = { 'Mac OS': 'macOS', 'Chromium OS': 'ChromeOS' };

/**
 * "Firefox on Linux (desktop)", "Safari on iOS (mobile)", "Unknown device": a session's `device`
 * ({browser, os, type}, any of them null) in words.
 */
export function describeDevice(device) {
  const browser = device?.browser ? device.browser.replace(/^Mobile /, '') : null;
  const os = device?.os ? (OS_NAMES[device.os] ?? device.os) : null;
  const type = device?.type ? ` (${device.type})` : '';
  if (browser && os) return `${browser} on ${os}${type}`;
  if (browser) return `${browser}${type}`;
  if (os) return `Unknown browser on ${os}${type}`;
  return `Unknown device${type}`;
}

/** Systems that only run on computers (ua-parser-js gives them no device type); as in src/sessions/device.ts. */
const DESKTOP_OS = new Set(
  'Windows,Mac OS,macOS,Linux,Ubuntu,Kubuntu,Xubuntu,Debian,Fedora,Mint,Arch,Gentoo,openSUSE,Red Hat,CentOS,Slackware,Manjaro,Mandriva,PCLinuxOS,Chromium OS,FreeBSD,OpenBSD,NetBSD,DragonFly,Solaris'.split(
    ',',
  ),
);

/**
 * A sign-in attempt carries only its user agent: the same {browser, os, type} the server keeps for
 * a session (src/sessions/device.ts), read in the page by ua-parser-js
 * (/assets/vendor/ua-parser.min.js), so both lists use the same words.
 */
export function deviceFromUserAgent(userAgent) {
  const Parser = globalThis.UAParser;
  if (!userAgent || typeof Parser !== 'function') return { browser: null, os: null, type: null };
  const { browser, os, device } = new Parser(userAgent).getResult();
  const type = device.type ?? (DESKTOP_OS.has(os.name) ? 'desktop' : null);
  return { browser: browser.name ?? null, os: os.name ?? null, type };
}

let regions = null;
try {
  regions = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });
} catch {
  // An old browser without Intl.DisplayNames: the code itself is shown.
}

/** "Germany" for "DE"; the code itself when the browser cannot name it. */
export function countryName(code) {
  if (!code) return '';
  try {
    return regions?.of(code) ?? code;
  } catch {
    return code;
  }
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
