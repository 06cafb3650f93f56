import { Webhook } from 'standardwebhooks';
import { webhookBody } from './webhook-sender';

describe('webhookBody and the signature (docs/OPERATIONS.md, "Webhooks")', () => {
  it("gives exactly the documented example's body and signature", () => {
    const delivery = {
      url: 'http://127.0.0.1/hooks',
      id: 'msg_2b4f6a10-5d0e-4c39-9a53-6f3c1e7d8a21',
      type: 'session.ended',
      timestamp: '2026-12-06T07:41:05.120Z',
      data: { session_id: 4812, user_id: 97, reason: 'logged_out', ended_at: '2026-12-06T07:41:05.120Z' },
    };
    const body = webhookBody(delivery);
    expect(body).toBe(
      '{"type":"session.ended","timestamp":"2026-12-06T07:41:05.120Z","data":{"session_id":4812,"user_id":97,"reason":"logged_out","ended_at":"2026-12-06T07:41:05.120Z"}}',
    );
    const signature = new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw').sign(
      delivery.id,
      new Date(1796544011 * 1000),
      body,
    );
    expect(signature).toBe('v1,lKM5HvZmcvBc/B8GT2fHadCPsNfQ+0hUFHklYg/qPLs=');
  });
});
