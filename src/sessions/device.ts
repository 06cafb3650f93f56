import UAParser from 'ua-parser-js/dist/ua-parser.min.js';

/** The device a session was started from, as stored in sessions.device_* (null when unknown). */
export interface Device {
  browser: string | null;
  os: string | null;
  type: string | null;
}

/**
 * Operating systems that only run on desktops and laptops: ua-parser-js leaves `device.type`
 * empty for them (it only names mobile, tablet, smarttv, wearable, console, embedded, xr).
 */
const DESKTOP_OS = new Set([
  'Windows',
  'Mac OS',
  'macOS',
  'Linux',
  'Ubuntu',
  'Kubuntu',
  'Xubuntu',
  'Debian',
  'Fedora',
  'Mint',
  'Arch',
  'Gentoo',
  'openSUSE',
  'Red Hat',
  'CentOS',
  'Slackware',
  'Manjaro',
  'Mandriva',
  'PCLinuxOS',
  'Chromium OS',
  'FreeBSD',
  'OpenBSD',
  'NetBSD',
  'DragonFly',
  'Solaris',
]);

function text(value: string | undefined, max: number): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed.slice(0, max) : null;
}

/**
 * Parses a user agent once, at login, into what the session list shows and the new-device check
 * compares. Lengths fit the columns (device_browser and device_os 50, device_type 20).
 */
export function parseDevice(userAgent: string | null): Device {
  if (!userAgent) return { browser: null, os: null, type: null };
  const { browser, os, device } = new UAParser(userAgent).getResult();
  const osName = text(os.name, 50);
  const type = text(device.type, 20) ?? (osName && DESKTOP_OS.has(osName) ? 'desktop' : null);
  return { browser: text(browser.name, 50), os: osName, type };
}
