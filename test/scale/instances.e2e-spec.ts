import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import { createScratchDatabase, TEST_POSTGRES_URL, type ScratchDatabase } from '../utils/postgres';
import { buildServer, startServer, type ServerProcess } from '../utils/server-process';

/**
 * Two instances of the built server, two real processes, on one PostgreSQL database: what a
 * deployment behind a load balancer does (docs/DEPLOYMENT.md). Nothing about a session lives in an
 * instance's memory, so whatever one instance does to a session the other sees on its next request,
 * and the database alone keeps the session cap and the unique email under concurrency.
 */
const CAP = 3;
const PASSWORD = 'correct horse battery staple';

describe('Two instances on one PostgreSQL database', () => {
  let db: ScratchDatabase | undefined;
  let pg: Client | undefined;
  const servers: ServerProcess[] = [];
  let A: ServerProcess;
  let B: ServerProcess;

  beforeAll(async () => {
    await buildServer();
    db = await createScratchDatabase(TEST_POSTGRES_URL!, 'instances');
    const env = {
      DATABASE_URL: db.url,
      // The same key on every instance: a token is stored as its HMAC under this key.
      SECRET_KEY: randomBytes(32).toString('base64url'),
      // development, not test: under NODE_ENV=test the server's logs are silent, and a failure
      // below shows them.
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      BCRYPT_ROUNDS: '4',
      BCRYPT_MAX_PENDING: '100',
      AUTH_RATE_LIMIT: '100000',
      // Attempts in flight count against the per-account limit; the bursts below are not attacks.
      LOGIN_LIMIT_ACCOUNT_ADDRESS: '1000',
      LOGIN_LIMIT_ADDRESS: '1000',
      LOGIN_LIMIT_ACCOUNT: '1000',
      MAX_SESSIONS_PER_USER: String(CAP),
      CLEANUP_INTERVAL_MINUTES: '0',
    };
    // Migrations as a deploy step: the first instance applies them, the second only uses the schema.
    A = await startServer('A', { ...env, MIGRATIONS_RUN: 'true' });
    servers.push(A);
    B = await startServer('B', { ...env, MIGRATIONS_RUN: 'false' });
    servers.push(B);
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  }, 180_000);

  afterAll(async () => {
    // Whatever failed above: no server process outlives the spec, nor its database.
    await Promise.all(servers.map((s) => s.stop()));
    await pg?.end();
    await db?.drop();
  }, 30_000);

  /** The response, or an error showing its body and what both servers logged. */
  function expectStatus(res: request.Response, status: number): request.Response {
    if (res.status !== status) {
      const logs = servers.map((s) => `--- ${s.name} (${s.url}) ---\n${s.output() || '(no output)'}`).join('\n');
      throw new Error(
        `Expected ${status}, got ${res.status} ${JSON.stringify(res.body)} (${res.request.method} ${res.request.url})\n${logs}`,
      );
    }
    return res;
  }

  interface Account {
    id: number;
    email: string;
  }

  async function signup(on: ServerProcess): Promise<Account> {
    const email = `user-${randomBytes(6).toString('hex')}@example.com`;
    const res = expectStatus(
      await request(on.url).post('/signup').send({ name: 'Multi', phone: '555 0100', email, password: PASSWORD }),
      201,
    );
    return { id: res.body.user.id, email };
  }

  interface LoggedIn {
    token: string;
    sessionId: number;
    setCookie: string;
  }

  async function login(on: ServerProcess, account: Account, password = PASSWORD): Promise<LoggedIn> {
    const res = expectStatus(await request(on.url).post('/login').send({ email: account.email, password }), 200);
    return { ...readCookie(res), sessionId: res.body.session.id };
  }

  function readCookie(res: request.Response): { token: string; setCookie: string } {
    const setCookie = ([] as string[])
      .concat(res.headers['set-cookie'] ?? [])
      .find((c) => c.startsWith('session_token='));
    if (!setCookie) throw new Error(`No session_token cookie in ${JSON.stringify(res.headers['set-cookie'])}`);
    return { token: setCookie.slice('session_token='.length).split(';')[0], setCookie };
  }

  const status = (on: ServerProcess, token: string) =>
    request(on.url).get('/session_status').set('Authorization', `Bearer ${token}`);

  async function expectRefused(token: string, reason: string, on: ServerProcess[] = [A, B]): Promise<void> {
    for (const server of on) expect(expectStatus(await status(server, token), 401).body.reason).toBe(reason);
  }

  async function activeRows(userId: number): Promise<number> {
    const { rows } = await pg!.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND is_active',
      [userId],
    );
    return rows[0].n;
  }

  it('a session started on A is valid on B, by cookie or Bearer', async () => {
    const account = await signup(A);
    const session = await login(A, account);
    // SESSION_COOKIE_SECURE is off here (plain HTTP): the cookie is session_token, not Secure.
    expect(session.setCookie).toMatch(/HttpOnly/i);
    expect(session.setCookie).toMatch(/SameSite=Lax/i);
    expect(session.setCookie).not.toMatch(/Secure/i);

    const byCookie = expectStatus(
      await request(B.url).get('/session_status').set('Cookie', `session_token=${session.token}`),
      200,
    );
    expect(byCookie.body.session.id).toBe(session.sessionId);
    expect(byCookie.body.user.id).toBe(account.id);
    const list = expectStatus(
      await request(B.url).get('/active_sessions').set('Authorization', `Bearer ${session.token}`),
      200,
    );
    expect(list.body.sessions).toEqual([expect.objectContaining({ id: session.sessionId, current: true })]);
  });

  it('a logout on A is refused on B at once', async () => {
    const account = await signup(B);
    const session = await login(A, account);
    expectStatus(await status(B, session.token), 200);
    expectStatus(await request(A.url).post('/logout').set('Authorization', `Bearer ${session.token}`), 200);
    await expectRefused(session.token, 'logged_out', [B, A]);
  });

  it('a session revoked on A (DELETE /active_sessions/:id) is refused on B at once', async () => {
    const account = await signup(A);
    const onA = await login(A, account);
    const onB = await login(B, account);
    expectStatus(await status(B, onB.token), 200);
    expectStatus(
      await request(A.url).delete(`/active_sessions/${onB.sessionId}`).set('Authorization', `Bearer ${onA.token}`),
      204,
    );
    await expectRefused(onB.token, 'revoked', [B, A]);
    expectStatus(await status(B, onA.token), 200);
  });

  it('a password change on A ends the other sessions, refused on B at once', async () => {
    const account = await signup(A);
    const caller = await login(A, account);
    const others = [await login(B, account), await login(A, account)];
    const newPassword = 'another long passphrase';
    const changed = expectStatus(
      await request(A.url)
        .post('/change_password')
        .set('Authorization', `Bearer ${caller.token}`)
        .send({ current_password: PASSWORD, new_password: newPassword }),
      200,
    );
    expect(changed.body.revoked).toBe(2);
    for (const other of others) await expectRefused(other.token, 'revoked', [B, A]);
    // The caller's own token is replaced by the one in the new cookie.
    await expectRefused(caller.token, 'revoked', [B]);
    expectStatus(await status(B, readCookie(changed).token), 200);
    // The new password holds on both instances, the old one on neither.
    for (const server of [A, B]) {
      expectStatus(await request(server.url).post('/login').send({ email: account.email, password: PASSWORD }), 401);
      await login(server, account, newPassword);
    }
  });

  it(`keeps at most ${CAP} sessions across instances: the one evicted is refused on both`, async () => {
    const account = await signup(A);
    const sessions: LoggedIn[] = [];
    for (let i = 0; i < CAP + 1; i++) sessions.push(await login(i % 2 === 0 ? A : B, account));
    const [evicted, ...kept] = sessions;
    await expectRefused(evicted.token, 'revoked');
    for (const session of kept) for (const server of [A, B]) expectStatus(await status(server, session.token), 200);
    expect(await activeRows(account.id)).toBe(CAP);
  });

  it(`concurrent logins on both instances never leave more than ${CAP} active sessions`, async () => {
    const account = await signup(B);
    for (let round = 0; round < 2; round++) {
      const responses = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          request((i % 2 === 0 ? A : B).url)
            .post('/login')
            .set('User-Agent', `device ${round}.${i}`)
            .send({ email: account.email, password: PASSWORD }),
        ),
      );
      for (const res of responses) expectStatus(res, 200);
      expect(await activeRows(account.id)).toBe(CAP);

      // Exactly CAP of the tokens still work, on either instance, and each lists the same CAP sessions.
      const tokens = responses.map((res) => readCookie(res).token);
      const usable: string[] = [];
      for (const [i, token] of tokens.entries()) {
        const res = await status(i % 2 === 0 ? B : A, token);
        if (res.status === 200) usable.push(token);
        else expect(res.body.reason).toBe('revoked');
      }
      expect(usable).toHaveLength(CAP);
      for (const token of usable) {
        const list = expectStatus(
          await request(A.url).get('/active_sessions').set('Authorization', `Bearer ${token}`),
          200,
        );
        expect(list.body.sessions).toHaveLength(CAP);
      }
    }
  });

  it('concurrent signups with one email on both instances: one 201, the rest 409, one row', async () => {
    const email = `race-${randomBytes(6).toString('hex')}@example.com`;
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        request((i % 2 === 0 ? A : B).url)
          .post('/signup')
          .send({ name: `Racer ${i}`, phone: '555 0100', email, password: PASSWORD }),
      ),
    );
    const statuses = responses.map((res) => res.status).sort();
    if (statuses.some((s) => s !== 201 && s !== 409)) {
      expectStatus(
        responses.find((res) => res.status !== 201 && res.status !== 409)!,
        409,
      );
    }
    expect(statuses).toEqual([201, ...Array(9).fill(409)]);
    const { rows } = await pg!.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]);
    expect(rows[0].n).toBe(1);
  });
});
