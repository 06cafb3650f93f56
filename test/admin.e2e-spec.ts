import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { Session } from '../src/sessions/session.entity';
import { User } from '../src/users/user.entity';
import { ON_POSTGRES } from './utils/postgres';
import { ROUTES, routeLabel } from './utils/routes';
import { createTestApp, login, signup, type LoggedIn, type TestApp, type TestUser } from './utils/test-app';

const ADMIN = 'boss@example.com';

/** Administrators (ADMIN_EMAILS): find users, list and end their sessions, disable and enable them (ASVS V7.4.5). */
describe('Admin routes', () => {
  let t: TestApp;
  let admin: TestUser;
  let adminSession: LoggedIn;
  let alice: TestUser;
  let mallory: TestUser;
  let mallorySession: LoggedIn;

  beforeAll(async () => {
    t = await createTestApp(
      { ADMIN_EMAILS: ` ${ADMIN.toUpperCase()} , other-admin@example.com` },
      { captureLogs: true },
    );
    admin = await signup(t.http, { email: ADMIN });
    alice = await signup(t.http, { name: 'Alice' });
    mallory = await signup(t.http, { name: 'Mallory' });
    mallorySession = await login(t.http, mallory);
  });
  afterAll(() => t.close());

  beforeEach(async () => {
    // A fresh admin session for each story: its password was just proved.
    adminSession = await login(t.http, admin);
  });

  const as = (s: LoggedIn) => (r: request.Test) => r.set('Cookie', s.cookie);
  const asAdmin = (r: request.Test) => as(adminSession)(r);
  const sessionsOf = (userId: number) => t.dataSource.getRepository(Session).findBy({ userId, isActive: true });
  const adminLines = () =>
    t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === 'admin_action');

  /** Every admin route, with the given parameter and email. */
  const PATHS = (userId: number | string, email = alice.email) =>
    [
      ['get', `/admin/users?email=${encodeURIComponent(email)}`],
      ['get', `/admin/users/${userId}/sessions`],
      ['delete', `/admin/users/${userId}/sessions`],
      ['post', `/admin/users/${userId}/disable`],
      ['post', `/admin/users/${userId}/enable`],
    ] as const;
  const CALLS = (userId: number | string, email = alice.email) =>
    PATHS(userId, email).map(([method, path]) => request(t.http)[method](path));

  it('marks the listed emails is_admin at signup (trimmed, lower-cased), and no one else', async () => {
    const users = t.dataSource.getRepository(User);
    expect((await users.findOneByOrFail({ id: admin.id })).isAdmin).toBe(true);
    expect((await users.findOneByOrFail({ id: alice.id })).isAdmin).toBe(false);
  });

  it('answers 404, the same as an unknown route, to a non-admin signed in or out, for every route and any parameter', async () => {
    for (const auth of [
      as(mallorySession),
      (r: request.Test) => r,
      (r: request.Test) => r.set('Cookie', 'session_token=nonsense'),
    ]) {
      for (const [userId, email] of [
        [alice.id, alice.email],
        ['abc', ''],
        ['0', '%00'],
        [999999, 'nobody@example.com'],
      ] as const) {
        for (const [method, path] of PATHS(userId, email)) {
          const res = await auth(request(t.http)[method](path));
          const unknown = await auth(request(t.http)[method](path.replace('/admin/', '/nothing-here/')));
          expect(res.status).toBe(404);
          expect(unknown.status).toBe(404);
          expect(res.body).toEqual({
            ...unknown.body,
            message: unknown.body.message.replace('/nothing-here/', '/admin/'),
          });
          expect(res.body).toEqual({
            statusCode: 404,
            error: 'Not Found',
            message: `Cannot ${method.toUpperCase()} ${path}`,
          });
        }
      }
    }
    // A missing email is a 404 too, not the 400 an admin gets.
    await as(mallorySession)(request(t.http).get('/admin/users')).expect(404);
    // Nothing happened.
    expect(await sessionsOf(mallory.id)).toHaveLength(1);
    expect((await t.dataSource.getRepository(User).findOneByOrFail({ id: alice.id })).isActive).toBe(true);
  });

  it('finds a user by exact email (trimmed, lower-cased), with is_admin; none for an unknown email; 400 without one', async () => {
    const found = await asAdmin(
      request(t.http).get(`/admin/users?email=${encodeURIComponent(`  ${alice.email.toUpperCase()} `)}`),
    ).expect(200);
    expect(found.body).toEqual({
      users: [
        {
          id: alice.id,
          name: 'Alice',
          email: alice.email,
          phone: alice.phone,
          created_at: expect.any(String),
          last_login: null,
          is_active: true,
          email_verified: false,
          is_admin: false,
        },
      ],
    });
    const partial = await asAdmin(request(t.http).get(`/admin/users?email=${alice.email.slice(0, 5)}`)).expect(200);
    expect(partial.body).toEqual({ users: [] });
    for (const query of ['', '?email=', '?email=%20%20', '?email=a&email=b']) {
      const res = await asAdmin(request(t.http).get(`/admin/users${query}`));
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.message)).toContain('email');
    }
  });

  it("lists a user's active sessions (current false), and 404 for an unknown user, 400 for a bad id", async () => {
    const s1 = await login(t.http, alice, 'Alice laptop');
    const res = await asAdmin(request(t.http).get(`/admin/users/${alice.id}/sessions`)).expect(200);
    expect(res.body.sessions.map((s: { id: number }) => s.id)).toContain(s1.body.session.id);
    expect(res.body.sessions.every((s: { current: boolean }) => s.current === false)).toBe(true);
    const own = await asAdmin(request(t.http).get(`/admin/users/${admin.id}/sessions`)).expect(200);
    expect(own.body.sessions.every((s: { current: boolean }) => s.current === false)).toBe(true);
    const unknown = await asAdmin(request(t.http).get('/admin/users/999999/sessions'));
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'User not found' });
    for (const call of CALLS('abc').slice(1)) expect((await asAdmin(call)).status).toBe(400);
    for (const call of CALLS(999999).slice(1)) expect((await asAdmin(call)).status).toBe(404);
  });

  it("ends all of a user's sessions with reason revoked_by_admin; the user's next request gets 401 saying so", async () => {
    const a = await login(t.http, alice, 'A');
    const b = await login(t.http, alice, 'B');
    const active = (await sessionsOf(alice.id)).length;
    const res = await asAdmin(request(t.http).delete(`/admin/users/${alice.id}/sessions`)).expect(200);
    expect(res.body).toEqual({ revoked: active });
    expect(await sessionsOf(alice.id)).toHaveLength(0);
    for (const s of [a, b]) {
      const status = await as(s)(request(t.http).get('/session_status'));
      expect(status.status).toBe(401);
      expect(status.body).toMatchObject({ authenticated: false, reason: 'revoked_by_admin' });
    }
    // The admin's own session is untouched; the account can sign in again.
    await asAdmin(request(t.http).get('/session_status')).expect(200);
    await login(t.http, alice);
    const again = await asAdmin(request(t.http).delete('/admin/users/999999/sessions'));
    expect(again.status).toBe(404);
  });

  it('disables an account (sessions end, account_disabled; logins 403) and enables it again (sessions stay ended)', async () => {
    const s = await login(t.http, alice);
    const disabled = await asAdmin(request(t.http).post(`/admin/users/${alice.id}/disable`)).expect(200);
    expect(disabled.body.user).toMatchObject({ id: alice.id, is_active: false, is_admin: false });
    const status = await as(s)(request(t.http).get('/session_status'));
    expect(status.body).toMatchObject({ authenticated: false, reason: 'account_disabled' });
    await request(t.http).post('/login').send({ email: alice.email, password: alice.password }).expect(403);
    // Again: still a success.
    await asAdmin(request(t.http).post(`/admin/users/${alice.id}/disable`)).expect(200);

    const enabled = await asAdmin(request(t.http).post(`/admin/users/${alice.id}/enable`)).expect(200);
    expect(enabled.body.user).toMatchObject({ id: alice.id, is_active: true });
    expect((await as(s)(request(t.http).get('/session_status'))).status).toBe(401);
    await login(t.http, alice);
  });

  it('refuses to let an administrator disable their own account (400)', async () => {
    const res = await asAdmin(request(t.http).post(`/admin/users/${admin.id}/disable`));
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('Administrators cannot disable their own account');
    await asAdmin(request(t.http).get('/session_status')).expect(200);
  });

  it('needs a recent password for every action: 403 reauthentication_required and nothing happens, then /reauthenticate', async () => {
    const s = await login(t.http, alice);
    t.clock.advance(t.config.reauthMaxAge + 1);
    for (const call of CALLS(alice.id)) {
      const res = await asAdmin(call);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({
        statusCode: 403,
        error: 'Forbidden',
        message: expect.any(String),
        reason: 'reauthentication_required',
      });
    }
    await as(s)(request(t.http).get('/session_status')).expect(200);
    await asAdmin(request(t.http).post('/reauthenticate')).send({ password: admin.password }).expect(200);
    await asAdmin(request(t.http).delete(`/admin/users/${alice.id}/sessions`)).expect(200);
    await as(s)(request(t.http).get('/session_status')).expect(401);
  });

  it('logs every action as admin_action with the admin id, the action and the target id (ids only)', async () => {
    const from = adminLines().length;
    await asAdmin(request(t.http).get(`/admin/users?email=${alice.email}`)).expect(200);
    await asAdmin(request(t.http).get('/admin/users?email=nobody@example.com')).expect(200);
    await asAdmin(request(t.http).get(`/admin/users/${alice.id}/sessions`)).expect(200);
    await asAdmin(request(t.http).delete(`/admin/users/${alice.id}/sessions`)).expect(200);
    await asAdmin(request(t.http).post(`/admin/users/${alice.id}/disable`)).expect(200);
    await asAdmin(request(t.http).post(`/admin/users/${alice.id}/enable`)).expect(200);
    // A refused call is not an action.
    await as(mallorySession)(request(t.http).post(`/admin/users/${alice.id}/disable`)).expect(404);
    const lines = adminLines().slice(from);
    expect(lines.map((l) => [l.admin_id, l.action, l.target_user_id])).toEqual([
      [admin.id, 'find_users', alice.id],
      [admin.id, 'find_users', null],
      [admin.id, 'list_sessions', alice.id],
      [admin.id, 'revoke_sessions', alice.id],
      [admin.id, 'disable_user', alice.id],
      [admin.id, 'enable_user', alice.id],
    ]);
    expect(lines[3]).toMatchObject({ count: expect.any(Number) });
    expect(JSON.stringify(lines)).not.toContain(alice.email);
  });

  it('catalogues the five routes as admin routes', () => {
    expect(
      ROUTES.filter((r) => r.admin)
        .map(routeLabel)
        .sort(),
    ).toEqual(
      [
        'DELETE /admin/users/:id/sessions',
        'GET /admin/users',
        'GET /admin/users/:id/sessions',
        'POST /admin/users/:id/disable',
        'POST /admin/users/:id/enable',
      ].sort(),
    );
  });
});

/** ADMIN_EMAILS is read at each start: is_admin follows the list, on for listed users and off for the rest. */
(ON_POSTGRES ? describe.skip : describe)('The administrator list across restarts (one SQLite file)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'admin-e2e-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sets is_admin for existing users at start, and removes it when the email leaves the list', async () => {
    const env = { DATABASE_URL: `sqlite:///${join(dir, 'users.db')}` };
    const first = await createTestApp(env);
    const carol = await signup(first.http, { email: 'carol@example.com' });
    const dave = await signup(first.http, { email: 'dave@example.com' });
    await first.close();

    const isAdmin = async (app: TestApp, id: number) =>
      (await app.dataSource.getRepository(User).findOneByOrFail({ id })).isAdmin;

    const second = await createTestApp({ ...env, ADMIN_EMAILS: 'carol@example.com' });
    expect(await isAdmin(second, carol.id)).toBe(true);
    expect(await isAdmin(second, dave.id)).toBe(false);
    const carolSession = await login(second.http, carol);
    await request(second.http).get(`/admin/users/${dave.id}/sessions`).set('Cookie', carolSession.cookie).expect(200);
    await second.close();

    const third = await createTestApp({ ...env, ADMIN_EMAILS: 'dave@example.com' });
    expect(await isAdmin(third, carol.id)).toBe(false);
    expect(await isAdmin(third, dave.id)).toBe(true);
    // Carol's session survives the restart, but no longer opens the admin routes.
    await request(third.http).get(`/admin/users/${dave.id}/sessions`).set('Cookie', carolSession.cookie).expect(404);
    await request(third.http).get('/session_status').set('Cookie', carolSession.cookie).expect(200);
    await third.close();

    const fourth = await createTestApp(env);
    expect(await isAdmin(fourth, dave.id)).toBe(false);
    await fourth.close();
  });
});
