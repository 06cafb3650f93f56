import { Webhook } from 'standardwebhooks';
import type { WebhookDelivery } from '../mail/outbox.service';

/** How long one delivery may take, connection to last byte of the answer: well inside the outbox's claim. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

/** A delivery that failed: `code` is what the log and `last_error` keep (never the URL, which may hold a token). */
export class WebhookError extends Error {
  override name = 'WebhookError';
  constructor(readonly code: string) {
    super(`webhook delivery failed: ${code}`);
  }
}

/** The body as signed and sent: the Standard Webhooks message `{type, timestamp, data}`. */
export function webhookBody(delivery: WebhookDelivery): string {
  return JSON.stringify({ type: delivery.type, timestamp: delivery.timestamp, data: delivery.data });
}

/**
 * Sends one webhook (the outbox's `webhook` handler): a POST of the body, signed now with the
 * Standard Webhooks scheme (`webhook-id`: the id fixed when the event was written, the same on
 * every attempt; `webhook-timestamp`: now; `webhook-signature`: v1, HMAC-SHA256 of
 * `id.timestamp.body` under the secret). Resolves on a 2xx answer; anything else throws, and the
 * outbox retries with its backoff: a redirect (never followed: the endpoint is configured, not
 * discovered), any 4xx or 5xx (a 401 or 404 is most often a receiver being set up, which an
 * operator fixes within the day of retries), a timeout or a network error.
 */
export class WebhookSender {
  private readonly signer: Webhook;

  constructor(secret: string) {
    this.signer = new Webhook(secret);
  }

  async send(delivery: WebhookDelivery): Promise<void> {
    const body = webhookBody(delivery);
    // The wall clock, not the app's Clock: receivers compare this with their own clock (replay window).
    const now = new Date();
    const headers = {
      'content-type': 'application/json',
      'webhook-id': delivery.id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': this.signer.sign(delivery.id, now, body),
    };
    let response: Response;
    try {
      response = await fetch(delivery.url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
    } catch (error) {
      throw new WebhookError(networkCode(error));
    }
    // The answer's body is not read; released at once so the connection is not held.
    await response.body?.cancel().catch(() => undefined);
    if (response.status < 200 || response.status > 299) throw new WebhookError(`http_${response.status}`);
  }
}

/** A failed fetch's reason, as a code: ECONNREFUSED, TimeoutError, … */
function networkCode(error: unknown): string {
  const { name, cause } = (error ?? {}) as { name?: unknown; cause?: { code?: unknown } };
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  if (typeof cause?.code === 'string') return cause.code;
  return typeof name === 'string' ? name : 'network_error';
}
