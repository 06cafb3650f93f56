import request from 'supertest';
import { Session } from '../src/sessions/session.entity';
import { User } from '../src/users/user.entity';
import { createTestApp, login, sessionSetCookie, signup, type TestApp } from './utils/test-app';

describe("Signup, login, logout (the original guide's checklist)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  describe('POST /signup', () => {
    it('creates a user, returns it without the password, and sets no cookie', async () => {
      const res = await request(t.http)
        .post('/signup')
        .send({
          name: '  Ada Lovelace ',
          phone: '+44 20 7946 0958',
          email: '  Ada@Example.COM ',
          password: 'analytical engine',
        })
        .expect(201);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.body).toEqual({
        user: {
          id: expect.any(Number),
          name: 'Ada Lovelace',
          email: 'ada@example.com',
          phone: '+44 20 7946 0958',
          created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          last_login: null,
          is_active: true,
          email_verified: false,
        },
      });
      const row = await t.dataSource
        .getRepository(User)
        .createQueryBuilder('u')
        .addSelect('u.passwordHash')
        .where('u.id = :id', { id: res.body.user.id })
        .getOneOrFail();
      expect(row.passwordHash).toMatch(/^\$2b\$04\$/);
      expect(JSON.stringify(res.body)).not.toContain(row.passwordHash);
    });

    it('accepts an HTML form post and a phone given as a JSON number', async () => {
      await request(t.http)
        .post('/signup')
        .type('form')
        .send({ name: 'Form User', phone: '5551234', email: 'form@example.com', password: 'password123' })
        .expect(201);
      const res = await request(t.http)
        .post('/signup')
        .send({ name: 'Num', phone: 15551234567, email: 'num@example.com', password: 'password123' })
        .expect(201);
      expect(res.body.user.phone).toBe('15551234567');
    });

    it('takes form posts with a trailing slash too, and refuses forms on JSON-only routes with 415', async () => {
      const user = await signup(t.http);
      await request(t.http)
        .post('/login/')
        .type('form')
        .send({ email: user.email, password: user.password })
        .expect(200);
      await request(t.http).post('/logout').type('form').send({ a: 'b' }).expect(415);
    });

    it('refuses a taken email (any case) with 409', async () => {
      await signup(t.http, { email: 'taken@example.com' });
      const res = await request(t.http)
        .post('/signup')
        .send({ name: 'B', phone: '5551234', email: 'TAKEN@example.com', password: 'password123' })
        .expect(409);
      expect(res.body).toMatchObject({ statusCode: 409, error: 'Conflict' });
    });

    it('gives one 201 and one 409 to two concurrent signups with the same email', async () => {
      const body = { name: 'Race', phone: '5551234', email: 'race@example.com', password: 'password123' };
      const statuses = (
        await Promise.all([request(t.http).post('/signup').send(body), request(t.http).post('/signup').send(body)])
      ).map((r) => r.status);
      expect(statuses.sort()).toEqual([201, 409]);
      expect(await t.dataSource.getRepository(User).countBy({ email: 'race@example.com' })).toBe(1);
    });

    it.each([
      ['missing fields', {}, ['name', 'phone', 'email', 'password']],
      ['blank name', { name: '   ', phone: '5551234', email: 'a1@example.com', password: 'password123' }, ['name']],
      [
        'name over 100 code points',
        { name: '😀'.repeat(101), phone: '5551234', email: 'a2@example.com', password: 'password123' },
        ['name'],
      ],
      ['bad phone', { name: 'A', phone: 'call me', email: 'a3@example.com', password: 'password123' }, ['phone']],
      ['short phone', { name: 'A', phone: '123', email: 'a4@example.com', password: 'password123' }, ['phone']],
      ['bad email', { name: 'A', phone: '5551234', email: 'not-an-email', password: 'password123' }, ['email']],
      ['short password', { name: 'A', phone: '5551234', email: 'a5@example.com', password: 'short' }, ['password']],
      [
        'password over 72 bytes',
        { name: 'A', phone: '5551234', email: 'a6@example.com', password: 'é'.repeat(37) },
        ['password'],
      ],
      [
        'object instead of string',
        { name: { $ne: 1 }, phone: '5551234', email: 'a7@example.com', password: 'password123' },
        ['name'],
      ],
      [
        'mass assignment',
        { name: 'A', phone: '5551234', email: 'a8@example.com', password: 'password123', is_active: false, id: 999 },
        ['is_active', 'id'],
      ],
    ])('refuses %s with 400 naming the field', async (_case, body, fields) => {
      const res = await request(t.http).post('/signup').send(body).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      const messages: string[] = res.body.message;
      for (const field of fields) expect(messages.some((m) => m.includes(field))).toBe(true);
      expect(await t.dataSource.getRepository(User).countBy({ name: 'A' })).toBe(0);
    });

    it('accepts a name of exactly 100 code points and a password of exactly 72 bytes', async () => {
      await request(t.http)
        .post('/signup')
        .send({ name: '😀'.repeat(100), phone: '5551234', email: 'edge@example.com', password: 'é'.repeat(36) })
        .expect(201);
    });
  });

  describe('POST /login', () => {
    it('creates an active session row for the user (the original example test)', async () => {
      const user = await signup(t.http);
      const res = await request(t.http)
        .post('/login')
        .type('form')
        .send({ email: user.email, password: user.password })
        .expect(200);
      const session = await t.dataSource.getRepository(Session).findOneByOrFail({ id: res.body.session.id });
      expect(session.userId).toBe(user.id);
      expect(session.isActive).toBe(true);
      expect(session.ipAddress).toBeTruthy();
      expect(session.expiresAt.getTime() - session.loginTime.getTime()).toBe(86400 * 1000);
    });

    it('sets an HttpOnly, SameSite=Lax, Path=/ cookie whose Max-Age is the remaining lifetime, and returns user and session', async () => {
      const user = await signup(t.http);
      const { setCookie, body, token } = await login(t.http, user, 'Device A');
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Lax/);
      expect(setCookie).toMatch(/Path=\//);
      expect(setCookie).not.toMatch(/Secure/);
      expect(Number(/Max-Age=(\d+)/.exec(setCookie)?.[1])).toBeGreaterThanOrEqual(86399);
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(body.user).toMatchObject({ id: user.id, email: user.email, last_login: expect.any(String) });
      expect(body.session).toMatchObject({ user_agent: 'Device A', is_active: true, current: true, logout_time: null });
      expect(JSON.stringify(body)).not.toContain(token);
      const dbUser = await t.dataSource.getRepository(User).findOneByOrFail({ id: user.id });
      expect(dbUser.lastLogin).not.toBeNull();
    });

    it('stores only a keyed hash of the token', async () => {
      const user = await signup(t.http);
      const { token, body } = await login(t.http, user);
      const row = await t.dataSource
        .getRepository(Session)
        .createQueryBuilder('s')
        .addSelect('s.tokenHash')
        .where('s.id = :id', { id: body.session.id })
        .getOneOrFail();
      expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
      expect(row.tokenHash).not.toContain(token);
      const raw = await t.dataSource.query(`SELECT * FROM sessions WHERE id = ${Number(body.session.id)}`);
      expect(JSON.stringify(raw)).not.toContain(token);
    });

    it('gives the same 401 for a wrong password and an unknown email', async () => {
      const user = await signup(t.http);
      const wrong = await request(t.http)
        .post('/login')
        .send({ email: user.email, password: 'wrong password' })
        .expect(401);
      const unknown = await request(t.http)
        .post('/login')
        .send({ email: 'nobody@example.com', password: 'wrong password' })
        .expect(401);
      expect(wrong.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'Invalid email or password' });
      expect(unknown.body).toEqual(wrong.body);
      expect(wrong.headers['set-cookie']).toBeUndefined();
    });

    it('does not let bytes past 72 match (bcrypt would ignore them)', async () => {
      const password = 'a'.repeat(72);
      const user = await signup(t.http, { password });
      await request(t.http)
        .post('/login')
        .send({ email: user.email, password: password + 'extra' })
        .expect(401);
      await request(t.http).post('/login').send({ email: user.email, password }).expect(200);
    });

    it('refuses a deactivated user with 403 and creates no session', async () => {
      const user = await signup(t.http);
      await t.dataSource.getRepository(User).update({ id: user.id }, { isActive: false });
      const res = await request(t.http).post('/login').send({ email: user.email, password: user.password }).expect(403);
      expect(res.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
      expect(await t.dataSource.getRepository(Session).countBy({ userId: user.id })).toBe(0);
    });

    it('ends the session the request already carried (no fixation, no orphan)', async () => {
      const user = await signup(t.http);
      const first = await login(t.http, user);
      const res = await request(t.http)
        .post('/login')
        .set('Cookie', first.cookie)
        .send({ email: user.email, password: user.password })
        .expect(200);
      expect(res.body.session.id).not.toBe(first.body.session.id);
      const old = await t.dataSource.getRepository(Session).findOneByOrFail({ id: first.body.session.id });
      expect(old).toMatchObject({ isActive: false, endReason: 'logged_out' });
      expect(old.logoutTime).not.toBeNull();
      const status = await request(t.http).get('/session_status').set('Cookie', first.cookie).expect(401);
      expect(status.body.reason).toBe('logged_out');
    });

    it('verifies hashes made by the original Flask app ($2b$, $2a$, $2y$)', async () => {
      // Hashes of "flask password" made with bcrypt at cost 4, in each prefix the original may hold.
      const bcryptjs = await import('bcryptjs');
      const b = bcryptjs.hashSync('flask password', 4); // $2b$
      const variants = { b, a: b.replace('$2b$', '$2a$'), y: b.replace('$2b$', '$2y$') };
      for (const [prefix, hash] of Object.entries(variants)) {
        const email = `flask-${prefix}@example.com`;
        await t.dataSource.getRepository(User).insert({
          name: 'Flask',
          phone: '5551234',
          email,
          passwordHash: hash,
          createdAt: new Date(),
          lastLogin: null,
          isActive: true,
        });
        await request(t.http).post('/login').send({ email, password: 'flask password' }).expect(200);
        await request(t.http).post('/login').send({ email, password: 'not it at all' }).expect(401);
      }
    });

    it('refuses invalid input with 400 and counts nothing', async () => {
      const res = await request(t.http)
        .post('/login')
        .send({ email: ['a'], password: 5 })
        .expect(400);
      expect(res.body.message).toEqual(
        expect.arrayContaining([expect.stringContaining('email'), expect.stringContaining('password')]),
      );
    });
  });

  describe('logout', () => {
    it.each(['get', 'post'] as const)(
      '%s /logout marks the session inactive with logout_time and clears the cookie',
      async (method) => {
        const user = await signup(t.http);
        const { cookie, body } = await login(t.http, user);
        const res = await request(t.http)[method]('/logout').set('Cookie', cookie).expect(200);
        expect(res.body).toEqual({ message: 'Logged out' });
        expect(sessionSetCookie(res.headers['set-cookie'])).toMatch(/session_token=;.*Expires=Thu, 01 Jan 1970/);
        const session = await t.dataSource.getRepository(Session).findOneByOrFail({ id: body.session.id });
        expect(session.isActive).toBe(false);
        expect(session.logoutTime).not.toBeNull();
        expect(session.endReason).toBe('logged_out');
        await request(t.http).get('/active_sessions').set('Cookie', cookie).expect(401);
      },
    );

    it('HEAD /logout changes nothing (HEAD is safe)', async () => {
      const user = await signup(t.http);
      const { cookie } = await login(t.http, user);
      await request(t.http).head('/logout').set('Cookie', cookie).expect(200);
      await request(t.http).get('/session_status').set('Cookie', cookie).expect(200);
    });

    it('answers 200 and clears the cookie without a session', async () => {
      const res = await request(t.http).get('/logout').expect(200);
      expect(res.body).toEqual({ message: 'Logged out' });
      expect(sessionSetCookie(res.headers['set-cookie'])).toMatch(/^session_token=;/);
      await request(t.http).post('/logout').set('Cookie', 'session_token=garbage').expect(200);
    });
  });

  describe('GET /session_status', () => {
    it('shows the user, the current session and the seconds left', async () => {
      const user = await signup(t.http);
      const { cookie, body } = await login(t.http, user);
      const res = await request(t.http).get('/session_status').set('Cookie', cookie).expect(200);
      expect(res.body).toMatchObject({
        authenticated: true,
        user: { id: user.id },
        session: { id: body.session.id, current: true },
      });
      expect(res.body.expires_in).toBeGreaterThan(86390);
      expect(res.body.expires_in).toBeLessThanOrEqual(86400);
    });

    it.each([
      ['missing', undefined],
      ['invalid', 'session_token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
      ['invalid', 'session_token=not-even-well-formed'],
    ])('reports reason %s', async (reason, cookie) => {
      const req = request(t.http).get('/session_status');
      if (cookie) req.set('Cookie', cookie);
      const res = await req.expect(401);
      expect(res.body).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        message: expect.any(String),
        authenticated: false,
        reason,
      });
    });
  });

  describe('protected pages', () => {
    it('redirect a signed-out browser to /login_page and give API clients 401', async () => {
      const page = await request(t.http)
        .get('/userpage')
        .set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8')
        .expect(302);
      expect(page.headers.location).toBe('/login_page');
      const api = await request(t.http).get('/userpage').set('Accept', 'application/json').expect(401);
      expect(api.body.reason).toBe('missing');
    });

    it('show the dashboard data when signed in', async () => {
      const user = await signup(t.http);
      const { cookie } = await login(t.http, user);
      await login(t.http, user, 'second device');
      const res = await request(t.http).get('/userpage').set('Cookie', cookie).expect(200);
      expect(res.body).toEqual({
        user: expect.objectContaining({ id: user.id, email: user.email }),
        active_sessions: 2,
      });
    });
  });
});

describe('Common passwords (PASSWORD_DENY_COMMON=true)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ PASSWORD_DENY_COMMON: 'true' });
  });
  afterAll(() => t.close());

  it('refuses a common password at signup and at password change with 400, storing nothing', async () => {
    const res = await request(t.http)
      .post('/signup')
      .send({ name: 'C', phone: '5551234', email: 'common@example.com', password: 'Password123' })
      .expect(400);
    expect(res.body.message).toEqual([expect.stringContaining('password')]);
    expect(await t.dataSource.getRepository(User).countBy({ email: 'common@example.com' })).toBe(0);
    const user = await signup(t.http);
    const { cookie } = await login(t.http, user);
    await request(t.http)
      .post('/change_password')
      .set('Cookie', cookie)
      .send({ current_password: user.password, new_password: 'iloveyou' })
      .expect(400);
    await login(t.http, user);
  });
});
