/** One mail, as the flows write it and the outbox stores it until it is sent. */
export interface MailMessage {
  /** One recipient address. */
  to: string;
  subject: string;
  /** The plain-text part; every link in the HTML is in it too, for clients that show text only. */
  text: string;
  /** The HTML part; values put in it are escaped with `escapeHtml`. */
  html: string;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe to put in the HTML part (an account's name, a device, a link). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]);
}
