import { escapeHtml, type MailMessage } from './mail-message';

/** What a flow says in a mail; `composeMail` lays it out in text and HTML alike. */
export interface MailContent {
  to: string;
  subject: string;
  /** The account's name, for the greeting ("Hello Ada,"); omitted: "Hello,". */
  name?: string;
  /** The body, one paragraph per item, plain text (escaped for the HTML part). */
  paragraphs: string[];
  /** The one thing to do: a button in HTML, "label: url" on a line of its own in text. */
  action?: { label: string; url: string };
  /** Smaller print after the action ("If you did not ask for this, …"). */
  footer?: string[];
}

/**
 * One layout for every mail of the server: the same words in the text and the HTML part, every
 * value escaped in the HTML, the link of the action written out in full in both (a client that
 * shows text only, or blocks buttons, still has it). No remote image or style: nothing in the mail
 * calls home when it is opened.
 */
export function composeMail(content: MailContent): MailMessage {
  const greeting = content.name ? `Hello ${content.name},` : 'Hello,';
  const footer = content.footer ?? [];
  const text = [
    greeting,
    ...content.paragraphs,
    ...(content.action ? [`${content.action.label}: ${content.action.url}`] : []),
    ...footer,
  ].join('\n\n');

  const p = (line: string, style = '') => `<p style="margin:0 0 16px${style}">${escapeHtml(line)}</p>`;
  const action = content.action
    ? `<p style="margin:24px 0"><a href="${escapeHtml(content.action.url)}" style="display:inline-block;padding:12px 20px;border-radius:6px;background:#1d4ed8;color:#ffffff;text-decoration:none;font-weight:600">${escapeHtml(content.action.label)}</a></p>` +
      p(`Or open this link: ${content.action.url}`, ';font-size:13px;color:#4b5563;word-break:break-all')
    : '';
  const html = [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(content.subject)}</title></head>`,
    '<body style="margin:0;padding:24px;background:#f3f4f6;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;font-size:16px;line-height:1.5;color:#111827">',
    '<div style="max-width:560px;margin:0 auto;padding:24px;background:#ffffff;border-radius:8px">',
    p(greeting),
    ...content.paragraphs.map((line) => p(line)),
    action,
    ...footer.map((line) => p(line, ';font-size:13px;color:#4b5563')),
    '</div></body></html>',
  ].join('\n');

  return { to: content.to, subject: content.subject, text, html };
}
