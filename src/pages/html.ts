import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assetsBase } from './assets';

/**
 * Markup that is already safe to insert as is: only ever made by `renderView` from a view file, or
 * by a function below that escapes every piece of text it puts in.
 */
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

/**
 * An email address that wraps where a reader expects it: first before its "@" (the local part and
 * the domain are each a span the stylesheet keeps whole while it fits), then before a "." (a
 * `<wbr>`, which copied text does not carry). So a long address on a narrow screen never breaks
 * inside a word ("…example.co / m") unless one piece alone is wider than the line, where the
 * stylesheet's overflow-wrap is the last resort.
 */
export function breakableEmail(address: string): SafeHtml {
  const at = address.lastIndexOf('@');
  const parts = at > 0 ? [address.slice(0, at), address.slice(at)] : [address];
  const spans = parts.map(
    (part) =>
      `<span>${part
        .split(/(?=\.)/)
        .map(escapeHtml)
        .join('<wbr>')}</span>`,
  );
  return new SafeHtml(spans.join('<wbr>'));
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
