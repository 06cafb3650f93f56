import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assetsBase } from './assets';

/** Markup that is already safe to insert as is: only ever made by `renderView` from a view file. */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for an HTML element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export type ViewValues = Record<string, string | SafeHtml>;

const VIEWS_DIR = join(__dirname, 'views');
const cache = new Map<string, string>();

function source(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(join(VIEWS_DIR, `${name}.html`), 'utf8');
    cache.set(name, text);
  }
  return text;
}

/**
 * Fills a view (`views/<name>.html`, plain HTML) in: every `{{key}}` becomes its value, escaped,
 * unless the value is SafeHtml (another rendered view). Every placeholder needs a value and every
 * value a placeholder, so a typo fails loudly instead of printing "{{nmae}}" or dropping a message.
 * `{{assets}}` is filled in here, in every view, with the versioned assets folder
 * (`/assets/<version>`, see assets.ts), so no view or caller knows the version.
 */
export function renderView(name: string, values: ViewValues): SafeHtml {
  const unused = new Set(Object.keys(values));
  const text = source(name).replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    if (key === 'assets') return assetsBase();
    const value = values[key];
    if (value === undefined) throw new Error(`view ${name}: no value for {{${key}}}`);
    unused.delete(key);
    return value instanceof SafeHtml ? value.text : escapeHtml(value);
  });
  if (unused.size > 0) throw new Error(`view ${name}: no placeholder for ${[...unused].join(', ')}`);
  return new SafeHtml(text);
}
