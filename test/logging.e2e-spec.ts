import request from 'supertest';
import { CleanupService } from '../src/cleanup/cleanup.service';
import { Session } from '../src/sessions/session.entity';
import { User } from '../src/users/user.entity';
import { createTestApp, login, sessionSetCookie, signup, type TestApp } from './utils/test-app';

type LogLine = Record<string, unknown> & { level: string; msg?: string; reqId?: string; event?: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The token a response set in its session cookie. */
function tokenFrom(res: request.Response): string {
  const token = /^session_token=([^;]+)/.exec(sessionSetCookie(res.headers['set-cookie']))?.[1];
  if (!token) throw new Error('no session cookie in the response');
  return token;
}

describe('Logs: JSON lines, a request id in each, authentication events, no secrets', () => {
  let t: TestApp;
  const password = 'first secret password';
  const newPassword = 'second secret password';
  const wrongPassword = 'not my password at all';
  /** Every raw token the server handed out during the walk. */
  const tokens: string[] = [];

  const lines = (): LogLine[] => t.logs.map((line) => JSON.parse(line) as LogLine);
  const events = (event: string): LogLine[] => lines().filter((line) => line.event === event);
  /** The lines logged while handling the request that the response answered. */
  const linesOf = (res: request.Response): LogLine[] =>
    lines().filter((line) => line.reqId === res.headers['x-request-id']);
  /** The response line finishes just after the body is sent; give it a moment. */
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  beforeAll(async () => {
    t = await createTestApp(
      {
        SESSION_TIMEOUT: '86400',
        SESSION_IDLE_TIMEOUT: '3600',
        LOGIN_LIMIT_ACCOUNT_ADDRESS: '2',
        MAX_SESSIONS_PER_USER: '3',
      },
      { captureLogs: true },
    );
  });
  afterAll(() => t.close());

  it('gives every request an id: a well-formed X-Request-Id is kept, anything else replaced by a UUID', async () => {
    const kept = await request(t.http).get('/health').set('X-Request-Id', 'edge-42.a_b').expect(200);
    expect(kept.headers['x-request-id']).toBe('edge-42.a_b');
    const generated = await request(t.http).get('/health').expect(200);
    expect(generated.headers['x-request-id']).toMatch(UUID);
    for (const bad of ['has space', 'x'.repeat(65), '{"level":"fatal"}', '../../etc', '']) {
      const res = await request(t.http).get('/health').set('X-Request-Id', bad).expect(200);
      expect({ bad, id: res.headers['x-request-id'] }).toEqual({ bad, id: expect.stringMatching(UUID) });
    }
    // Answers from middleware that runs before the request logger carry one too.
    const tooBig = await request(t.http)
      .post('/login')
      .set('Content-Type', 'application/json')
      .send(`{"email":"${'a'.repeat(200_000)}"}`)
      .expect(413);
    expect(tooBig.headers['x-request-id']).toMatch(UUID);

    await settle();
    const completed = lines().find((line) => line.msg === 'request completed' && line.reqId === 'edge-42.a_b');
    expect(completed).toMatchObject({
      level: 'info',
      req: { id: 'edge-42.a_b', method: 'GET', url: '/health' },
      res: { statusCode: 200 },
    });
    expect(typeof completed?.time).toBe('string');
    // Every line the app wrote is one JSON object.
    expect(t.logs.length).toBeGreaterThan(0);
    for (const line of t.logs) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('logs requests refused before routing too (an oversized body, a cross-site post, a malformed URL), with their status', async () => {
    const tooBig = await request(t.http)
      .post('/login')
      .set('X-Request-Id', 'refused-413')
      .set('Content-Type', 'application/json')
      .send(`{"email":"${'a'.repeat(200_000)}"}`);
    const crossSite = await request(t.http)
      .post('/global_chat')
      .set('X-Request-Id', 'refused-403')
      .set('Sec-Fetch-Site', 'cross-site')
      .send({ message: 'x' });
    const badType = await request(t.http)
      .post('/global_chat')
      .set('X-Request-Id', 'refused-415')
      .set('Content-Type', 'text/plain')
      .send('x');
    expect([tooBig.status, crossSite.status, badType.status]).toEqual([413, 403, 415]);
    await settle();
    for (const [id, status] of [
      ['refused-413', 413],
      ['refused-403', 403],
      ['refused-415', 415],
    ] as const) {
      const completed = lines().find((line) => line.msg === 'request completed' && line.reqId === id);
      expect({ id, line: completed }).toMatchObject({
        id,
        line: { level: 'info', req: { id, method: 'POST' }, res: { statusCode: status } },
      });
    }
  });

  describe('a full walk', () => {
    let user: { id: number; email: string };
    let sessionId: number;

    it('signup and a failed login (wrong password, unknown email)', async () => {
      user = await signup(t.http, { password });
      const wrong = await request(t.http)
        .post('/login')
        .set('X-Request-Id', 'walk-wrong-password')
        .send({ email: user.email, password: wrongPassword })
        .expect(401);
      const unknown = await request(t.http)
        .post('/login')
        .send({ email: 'nobody@example.com', password: wrongPassword })
        .expect(401);

      expect(linesOf(wrong).filter((l) => l.event)).toEqual([
        expect.objectContaining({
          level: 'warn',
          event: 'login_failed',
          reason: 'bad_password',
          user_id: user.id,
          ip: expect.any(String),
          reqId: 'walk-wrong-password',
          context: 'AuthEvents',
        }),
      ]);
      expect(linesOf(unknown).filter((l) => l.event)).toEqual([
        expect.objectContaining({ event: 'login_failed', reason: 'bad_password', user_id: null }),
      ]);
      // Ids only: a failed login's email is not logged (it may hold a mistyped password).
      for (const line of events('login_failed')) expect(line).not.toHaveProperty('email');
    });

    it('login, session_status, active_sessions (cookie and Bearer)', async () => {
      const res = await request(t.http)
        .post('/login')
        .set('User-Agent', 'walk-device')
        .send({ email: user.email, password })
        .expect(200);
      const token = tokenFrom(res);
      tokens.push(token);
      sessionId = res.body.session.id;
      expect(linesOf(res).filter((l) => l.event)).toEqual([
        expect.objectContaining({
          level: 'info',
          event: 'login_succeeded',
          user_id: user.id,
          session_id: sessionId,
          ip: expect.any(String),
          msg: 'login_succeeded',
        }),
      ]);

      const status = await request(t.http).get('/session_status').set('Cookie', `session_token=${token}`).expect(200);
      const list = await request(t.http).get('/active_sessions').set('Authorization', `Bearer ${token}`).expect(200);
      await settle();
      // The request logger saw these headers and redacted them.
      expect(linesOf(res).find((l) => l.msg === 'request completed')).toMatchObject({
        res: { statusCode: 200, headers: { 'set-cookie': '[Redacted]' } },
      });
      expect(linesOf(status).find((l) => l.msg === 'request completed')).toMatchObject({
        req: { headers: { cookie: '[Redacted]' } },
      });
      expect(linesOf(list).find((l) => l.msg === 'request completed')).toMatchObject({
        req: { headers: { authorization: '[Redacted]' } },
      });
    });

    it('revoking one session, then all others', async () => {
      const cookie = `session_token=${tokens[0]}`;
      const other = await login(t.http, { email: user.email, password }, 'second device');
      tokens.push(other.token);
      const one = await request(t.http)
        .delete(`/active_sessions/${other.body.session.id}`)
        .set('Cookie', cookie)
        .expect(204);
      expect(linesOf(one).filter((l) => l.event)).toEqual([
        expect.objectContaining({
          event: 'session_revoked',
          user_id: user.id,
          session_id: other.body.session.id,
          by: 'user',
        }),
      ]);

      for (const device of ['third device', 'fourth device'])
        tokens.push((await login(t.http, { email: user.email, password }, device)).token);
      const all = await request(t.http).delete('/active_sessions').set('Cookie', cookie).expect(200);
      expect(all.body).toEqual({ revoked: 2 });
      expect(linesOf(all).filter((l) => l.event)).toEqual([
        expect.objectContaining({ event: 'session_revoked', user_id: user.id, count: 2, by: 'user' }),
      ]);
    });

    it('the session cap', async () => {
      for (const device of ['cap 1', 'cap 2'])
        tokens.push((await login(t.http, { email: user.email, password }, device)).token);
      // Use the first session a little later, so that the cap evicts "cap 1", the least recently active.
      t.clock.advance(120);
      await request(t.http).get('/session_status').set('Cookie', `session_token=${tokens[0]}`).expect(200);
      const res = await request(t.http).post('/login').send({ email: user.email, password }).expect(200);
      tokens.push(tokenFrom(res));
      expect(linesOf(res).filter((l) => l.event)).toEqual([
        expect.objectContaining({ event: 'session_revoked', user_id: user.id, count: 1, by: 'session_cap' }),
        expect.objectContaining({ event: 'login_succeeded', user_id: user.id, session_id: res.body.session.id }),
      ]);
    });

    it('change_password, then logout', async () => {
      const res = await request(t.http)
        .post('/change_password')
        .set('Cookie', `session_token=${tokens[0]}`)
        .send({ current_password: password, new_password: newPassword })
        .expect(200);
      const fresh = tokenFrom(res);
      tokens.push(fresh);
      const revoked = res.body.revoked as number;
      expect(revoked).toBeGreaterThan(0);
      expect(linesOf(res).filter((l) => l.event)).toEqual([
        expect.objectContaining({
          event: 'password_changed',
          user_id: user.id,
          revoked,
          session_id: sessionId,
          new_session_id: expect.any(Number),
        }),
        expect.objectContaining({ event: 'session_revoked', user_id: user.id, count: revoked, by: 'password_change' }),
      ]);

      const out = await request(t.http).post('/logout').set('Cookie', `session_token=${fresh}`).expect(200);
      expect(linesOf(out).filter((l) => l.event)).toEqual([
        expect.objectContaining({
          event: 'logout',
          user_id: user.id,
          session_id: events('password_changed')[0].new_session_id,
        }),
      ]);
    });

    it('a throttled login', async () => {
      for (let i = 0; i < 2; i++)
        await request(t.http).post('/login').send({ email: user.email, password: wrongPassword }).expect(401);
      const res = await request(t.http).post('/login').send({ email: user.email, password: newPassword }).expect(429);
      expect(linesOf(res).filter((l) => l.event)).toEqual([
        expect.objectContaining({
          level: 'warn',
          event: 'login_throttled',
          retry_after: Number(res.headers['retry-after']),
          user_id: user.id,
          ip: expect.any(String),
        }),
      ]);
    });

    it('idle timeout and expiry, found by a request and by the cleanup job', async () => {
      const other = await signup(t.http, { password });
      const idle = await login(t.http, other);
      tokens.push(idle.token);
      t.clock.advance(3601);
      const idleRes = await request(t.http).get('/session_status').set('Cookie', idle.cookie).expect(401);
      expect(linesOf(idleRes).filter((l) => l.event)).toEqual([
        expect.objectContaining({
          event: 'session_idle_timeout',
          user_id: other.id,
          session_id: idle.body.session.id,
          detected_by: 'request',
        }),
      ]);

      const expiring = await login(t.http, other);
      const leftToCleanup = await login(t.http, other);
      tokens.push(expiring.token, leftToCleanup.token);
      t.clock.advance(86401);
      const expiredRes = await request(t.http)
        .get('/active_sessions')
        .set('Authorization', `Bearer ${expiring.token}`)
        .expect(401);
      expect(linesOf(expiredRes).filter((l) => l.event)).toEqual([
        expect.objectContaining({
          event: 'session_expired',
          user_id: other.id,
          session_id: expiring.body.session.id,
          detected_by: 'request',
        }),
      ]);

      await t.app.get(CleanupService).run();
      const byCleanup = events('session_expired').filter((l) => l.detected_by === 'cleanup');
      expect(byCleanup.map((l) => l.session_id)).toContain(leftToCleanup.body.session.id);
      for (const line of byCleanup) expect(line.reqId).toBeUndefined();
      expect(events('cleanup').at(-1)).toMatchObject({
        context: 'Cleanup',
        sessions_expired: byCleanup.length,
        sessions_deleted: 0,
        login_attempts_deleted: 0,
      });
    });

    it('a token put in the query string (refused, and kept out of the logs)', async () => {
      await request(t.http)
        .get(`/active_sessions?session_token=${tokens[tokens.length - 1]}&limit=5`)
        .expect(401);
    });

    it('never logs a password, token, token hash or password hash', async () => {
      await settle();
      const hashes = (
        await t.dataSource.getRepository(Session).createQueryBuilder('s').addSelect('s.tokenHash').getMany()
      ).map((s) => s.tokenHash);
      const passwordHashes = (
        await t.dataSource.getRepository(User).createQueryBuilder('u').addSelect('u.passwordHash').getMany()
      ).map((u) => u.passwordHash);
      expect(tokens.length).toBeGreaterThanOrEqual(10);
      expect(hashes.length).toBeGreaterThanOrEqual(tokens.length);
      expect(passwordHashes.length).toBeGreaterThanOrEqual(2);

      const secrets = [
        password,
        newPassword,
        wrongPassword,
        ...tokens,
        ...hashes,
        ...passwordHashes,
        'session_token=',
        'Bearer ',
      ];
      const everything = t.logs.join('');
      expect(t.logs.length).toBeGreaterThan(50);
      for (const secret of secrets)
        expect({ secret, found: everything.includes(secret) }).toEqual({ secret, found: false });
      // Nor any body: the request logger records method, url, headers and status only.
      for (const line of lines()) expect((line.req as Record<string, unknown> | undefined)?.body).toBeUndefined();
    });

    it('logged every event of the walk, each with its request id', () => {
      const walk = [
        'login_failed',
        'login_succeeded',
        'session_revoked',
        'password_changed',
        'logout',
        'login_throttled',
        'session_idle_timeout',
        'session_expired',
        'cleanup',
      ];
      for (const event of walk) expect({ event, logged: events(event).length > 0 }).toEqual({ event, logged: true });
      const inRequests = lines().filter((l) => l.event && l.event !== 'cleanup' && l.detected_by !== 'cleanup');
      for (const line of inRequests) expect(line.reqId).toMatch(/^(walk-wrong-password|[0-9a-f-]{36})$/);
    });
  });

  // Last: a second capturing app takes the file's one log sink over (see createTestApp).
  it("writes Nest's line per route at debug: LOG_LEVEL=debug shows them, the default level does not", async () => {
    const routeLines = (logs: string[]) =>
      logs
        .map((line) => JSON.parse(line) as LogLine)
        .filter((line) => line.context === 'RoutesResolver' || line.context === 'RouterExplorer');
    expect(routeLines(t.logs)).toEqual([]);
    const debug = await createTestApp({ LOG_LEVEL: 'debug' }, { captureLogs: true });
    try {
      const shown = routeLines(debug.logs);
      expect(shown.map((line) => line.msg)).toContain('Mapped {/health, GET} route');
      expect(new Set(shown.map((line) => line.level))).toEqual(new Set(['debug']));
    } finally {
      await debug.close();
    }
  });
});
