import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The pages' styles, scripts and icon (src/pages/public, copied into dist by nest-cli.json). */
export const PUBLIC_DIR = join(__dirname, 'public');

/** The user-agent parser the dashboard runs, from its npm package (that one file): no CDN, no build step. */
export const UA_PARSER = require.resolve('ua-parser-js/dist/ua-parser.min.js');
export const UA_PARSER_DIR = dirname(UA_PARSER);

/** A versioned file may be kept a year and never revalidated: its URL changes with its content. */
export const LONG_LIVED = 'public, max-age=31536000, immutable';

/**
 * /favicon.ico, asked for by browsers on the pages without an icon link (the JSON views, /docs):
 * its URL cannot change with the icon, so it is kept a day only; the pages link the versioned one.
 */
export const FAVICON_CACHE = 'public, max-age=86400';

/**
 * The version in the assets' URLs (`/assets/<version>/app.css`): the first 12 hex digits of a
 * SHA-256 of every file served under it (names and contents), computed once, at start. One version
 * for the whole folder rather than one per file, so the scripts' relative imports (`./api.js`)
 * resolve within the same version without being rewritten. Instances running the same files
 * compute the same version, so instances behind one balancer agree.
 */
function computeVersion(): string {
  const hash = createHash('sha256');
  const files = readdirSync(PUBLIC_DIR, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(PUBLIC_DIR, entry.name))
    .sort();
  for (const file of [...files, UA_PARSER]) hash.update(`${basename(file)}\0`).update(readFileSync(file));
  return hash.digest('hex').slice(0, 12);
}

let base: string | undefined;

/** `/assets/<version>`: where the views point their styles, scripts and icon (`{{assets}}`). */
export function assetsBase(): string {
  base ??= `/assets/${computeVersion()}`;
  return base;
}

let favicon: Buffer | undefined;

/** The icon (public/favicon.svg), read once. */
export function faviconSvg(): Buffer {
  favicon ??= readFileSync(join(PUBLIC_DIR, 'favicon.svg'));
  return favicon;
}
