import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import request from 'supertest';
import { Outbox } from '../src/mail/outbox.service';
import { startSmtp } from './utils/smtp';
import { createTestApp, login, signup, type TestApp } from './utils/test-app';

const TOKEN = 'metrics-token-0123456789abcdef';

/** One sample of the text format: `name{a="b",…} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (version 0.0.4): comments skipped, label values unescaped. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[key] = value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of one series (0 when absent: a counter never incremented has no labelled series). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.find(
    (s) =>
      s.name === name &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
      Object.keys(s.labels).length === Object.keys(labels).length,
  );
  return found?.value ?? 0;
}

async function scrape(t: TestApp): Promise<Sample[]> {
  const res = await request(t.http).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
  return parseMetrics(res.text);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A raw request to the metrics listener (node:http, no keep-alive). */
function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /metrics on the main port', () => {
  it('is the 404 of an unknown route when METRICS_TOKEN is not set', async () => {
    const t = await createTestApp();
    try {
      const metrics = await request(t.http).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(404);
      const unknown = await request(t.http).get('/no_such_route').expect(404);
      expect(metrics.body).toEqual({ ...unknown.body, message: 'Cannot GET /metrics' });
      expect(unknown.body.message).toBe('Cannot GET /no_such_route');
    } finally {
      await t.close();
    }
  });

  describe('with METRICS_TOKEN', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ METRICS_TOKEN: TOKEN });
    });
    afterAll(() => t.close());

    it('is 401 without the token or with another one', async () => {
      const none = await request(t.http).get('/metrics').expect(401);
      expect(none.body).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        message: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>',
      });
      expect(none.headers['www-authenticate']).toBe('Bearer realm="metrics"');
      await request(t.http).get('/metrics').set('Authorization', `Bearer ${TOKEN}x`).expect(401);
      await request(t.http)
        .get('/metrics')
        .set('Authorization', `Bearer ${TOKEN.slice(1)}`)
        .expect(401);
      await request(t.http).get('/metrics').set('Authorization', TOKEN).expect(401);
      await request(t.http).get('/metrics').set('Cookie', `session_token=${TOKEN}`).expect(401);
    });

    it('answers the text format with the token, with process metrics and no session lookup', async () => {
      const res = await request(t.http).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
      expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-store');
      const samples = parseMetrics(res.text);
      expect(value(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
      expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
      // Not a route of the API: no session was looked up for it.
      expect(samples.filter((s) => s.name === 'session_checks_total')).toEqual([]);
      expect(res.text).toContain('# TYPE http_request_duration_seconds histogram');
    });

    it('labels requests by route template, never by the raw URL', async () => {
      const user = await signup(t.http);
      const [a, b] = [await signup(t.http), await signup(t.http)];
      const { cookie } = await login(t.http, user);
      await request(t.http).get(`/chats/${a.id}`).set('Cookie', cookie).expect(200);
      await request(t.http).get(`/chats/${b.id}`).set('Cookie', cookie).expect(200);
      await request(t.http).get('/nothing/here/789').expect(404);
      const samples = await scrape(t);
      const routes = new Set(
        samples.filter((s) => s.name.startsWith('http_request_duration')).map((s) => s.labels.route),
      );
      expect(routes).toContain('/chats/:user_id');
      expect(routes).toContain('unmatched');
      expect([...routes].filter((r) => r.includes(String(a.id)) || /\d/.test(r))).toEqual([]);
      const chats = { route: '/chats/:user_id', method: 'GET', status_code: '200' };
      expect(value(samples, 'http_request_duration_seconds_count', chats)).toBe(2);
      // The 250 ms SLO is a bucket bound.
      expect(value(samples, 'http_request_duration_seconds_bucket', { ...chats, le: '0.25' })).toBe(2);
      expect(value(samples, 'http_request_duration_seconds_bucket', { ...chats, le: '+Inf' })).toBe(2);
    });
  });
});

describe('The METRICS_PORT listener', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await createTestApp({ METRICS_PORT: String(port) });
  });
  afterAll(() => t?.close());

  it('serves GET /metrics and nothing else; the main port does not serve it', async () => {
    const metrics = await get(port, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(parseMetrics(metrics.body).some((s) => s.name === 'process_resident_memory_bytes')).toBe(true);
    expect((await get(port, '/metrics?x=1')).status).toBe(200);
    for (const path of ['/', '/session_status', '/health', '/docs', '/metrics/x']) {
      const res = await get(port, path);
      expect([path, res.status]).toEqual([path, 404]);
      expect(JSON.parse(res.body)).toEqual({ statusCode: 404, error: 'Not Found', message: `Cannot GET ${path}` });
    }
    expect((await get(port, '/metrics', 'POST')).status).toBe(405);
    await request(t.http).get('/metrics').expect(404);
  });

  it('is closed when the app closes', async () => {
    const other = await freePort();
    const app = await createTestApp({ METRICS_PORT: String(other) });
    expect((await get(other, '/metrics')).status).toBe(200);
    await app.close();
    await expect(get(other, '/metrics')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('The product metrics, a scripted scenario', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ METRICS_TOKEN: TOKEN, LOGIN_LIMIT_ACCOUNT_ADDRESS: '2' });
  });
  afterAll(() => t.close());

  it('counts each step exactly', async () => {
    const before = await scrape(t);
    const delta = (after: Sample[], name: string, labels: Record<string, string> = {}) =>
      value(after, name, labels) - value(before, name, labels);

    const user = await signup(t.http);
    // A wrong password, then the right one (two sessions: one to revoke, one to keep).
    await request(t.http).post('/login').send({ email: user.email, password: 'wrong password!' }).expect(401);
    const first = await login(t.http, user);
    const second = await login(t.http, user, 'another-device');
    // Another account: two wrong passwords, then throttled (429).
    const victim = await signup(t.http);
    for (let i = 0; i < 2; i++)
      await request(t.http).post('/login').send({ email: victim.email, password: 'wrong password!' }).expect(401);
    await request(t.http).post('/login').send({ email: victim.email, password: victim.password }).expect(429);

    // Session checks: ok, missing, expired.
    await request(t.http).get('/session_status').set('Cookie', first.cookie).expect(200);
    await request(t.http).get('/session_status').expect(401);
    // The second session is revoked from the first.
    await request(t.http).delete(`/active_sessions/${second.body.session.id}`).set('Cookie', first.cookie).expect(204);
    await request(t.http).get('/session_status').set('Cookie', second.cookie).expect(401);
    // A password change replaces the caller's session (ending it, starting another).
    const changed = await request(t.http)
      .post('/change_password')
      .set('Cookie', first.cookie)
      .send({ current_password: user.password, new_password: 'a brand new password' })
      .expect(200);
    const replaced = /session_token=([^;]*)/.exec(String(changed.headers['set-cookie']))![1];
    await request(t.http).post('/logout').set('Cookie', `session_token=${replaced}`).expect(200);
    // A third session left to expire.
    const third = await login(t.http, { email: user.email, password: 'a brand new password' });
    t.clock.advance(t.config.sessionTimeout + 1);
    await request(t.http).get('/session_status').set('Cookie', third.cookie).expect(401);
    // A mail queued: the forgotten-password link.
    await request(t.http).post('/forgot_password').send({ email: user.email }).expect(202);
    await t.app.get(Outbox).idle();

    const after = await scrape(t);
    expect({
      ok: delta(after, 'sign_in_attempts_total', { outcome: 'ok' }),
      bad_password: delta(after, 'sign_in_attempts_total', { outcome: 'bad_password' }),
      throttled: delta(after, 'sign_in_attempts_total', { outcome: 'throttled' }),
    }).toEqual({ ok: 3, bad_password: 3, throttled: 1 });
    expect({
      ok: delta(after, 'session_checks_total', { result: 'ok' }),
      missing: delta(after, 'session_checks_total', { result: 'missing' }),
      revoked: delta(after, 'session_checks_total', { result: 'revoked' }),
      expired: delta(after, 'session_checks_total', { result: 'expired' }),
    }).toEqual({ ok: 4, missing: 1, revoked: 1, expired: 1 });
    expect(delta(after, 'sessions_started_total')).toBe(4);
    expect({
      revoked: delta(after, 'sessions_ended_total', { reason: 'revoked' }),
      logged_out: delta(after, 'sessions_ended_total', { reason: 'logged_out' }),
      expired: delta(after, 'sessions_ended_total', { reason: 'expired' }),
    }).toEqual({ revoked: 2, logged_out: 1, expired: 1 });
    expect(delta(after, 'http_refused_total', { route: '/login', status_code: '429' })).toBe(1);
    expect(value(after, 'sessions_active')).toBe(0);
    // Signup, 6 logins (the throttled one refused before the hash), the password change (check and hash).
    expect(delta(after, 'password_hash_duration_seconds_count')).toBeGreaterThanOrEqual(8);
    expect(value(after, 'password_hash_queue_depth')).toBe(0);
  });

  it('counts active sessions and the outbox in the database at scrape time', async () => {
    const user = await signup(t.http);
    await login(t.http, user);
    await login(t.http, user, 'another-device');
    await t.app.get(Outbox).idle();
    let samples = await scrape(t);
    expect(value(samples, 'sessions_active')).toBe(2);
    const pendingBefore = value(samples, 'outbox_pending', { kind: 'mail' });
    const later = new Date(t.clock.now().getTime() + 3600_000);
    const now = t.clock.now();
    await t.dataSource.getRepository('OutboxEntry').insert([
      { kind: 'mail', payload: '{}', createdAt: now, availableAt: later, attempts: 0 },
      { kind: 'mail', payload: '', createdAt: now, availableAt: now, attempts: 30, failedAt: now },
    ]);
    samples = await scrape(t);
    expect(value(samples, 'outbox_pending', { kind: 'mail' })).toBe(pendingBefore + 1);
    expect(value(samples, 'outbox_given_up', { kind: 'mail' })).toBe(1);
    t.clock.advance(t.config.sessionTimeout + 1);
    expect(value(await scrape(t), 'sessions_active')).toBe(0);
  });
});

describe('Outbox delivery failures', () => {
  it('are counted by kind and outcome: a refusing SMTP server (retry), then a permanent refusal (given_up)', async () => {
    const smtp = await startSmtp();
    const t = await createTestApp({ METRICS_TOKEN: TOKEN, MAIL_URL: smtp.url });
    try {
      const outbox = t.app.get(Outbox);
      const mail = { to: 'ada@example.com', subject: 'S', text: 'T', html: '<p>T</p>' };
      smtp.refuse(); // 421: temporary
      await outbox.enqueue('mail', mail);
      await outbox.idle();
      let samples = await scrape(t);
      expect(value(samples, 'outbox_delivery_failures_total', { kind: 'mail', outcome: 'retry' })).toBe(1);
      expect(value(samples, 'outbox_delivery_failures_total', { kind: 'mail', outcome: 'given_up' })).toBe(0);

      // The same row, at its last attempt: given up.
      await t.dataSource.query('UPDATE outbox SET attempts = 29, available_at = created_at');
      outbox.kick();
      await outbox.idle();
      samples = await scrape(t);
      expect(value(samples, 'outbox_delivery_failures_total', { kind: 'mail', outcome: 'given_up' })).toBe(1);
      expect(value(samples, 'outbox_given_up', { kind: 'mail' })).toBe(1);
    } finally {
      await t.close();
      await smtp.close();
    }
  });
});
