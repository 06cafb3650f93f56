import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { Session } from '../src/sessions/session.entity';
import { User } from '../src/users/user.entity';
import { AuthService } from '../src/auth/auth.service';
import { SessionsRepository } from '../src/sessions/sessions.repository';
import { createTestApp, login, signup, type TestApp } from './utils/test-app';

describe('The session guard', () => {
  describe('with the default lifetime and no idle timeout', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ SESSION_TIMEOUT: '3600' });
    });
    afterAll(() => t.close());

    it('accepts the token as a cookie or as a Bearer header, never in the query string', async () => {
      const user = await signup(t.http);
      const { token } = await login(t.http, user);
      await request(t.http).get('/active_sessions').set('Cookie', `session_token=${token}`).expect(200);
      await request(t.http).get('/active_sessions').set('Authorization', `Bearer ${token}`).expect(200);
      await request(t.http).get(`/active_sessions?token=${token}`).expect(401);
      await request(t.http).get(`/active_sessions?session_token=${token}`).expect(401);
      await request(t.http).get('/active_sessions').set('Authorization', `Basic ${token}`).expect(401);
    });

    it("reads every column of the session and of its user but the two hashes, as TypeORM's own read would", async () => {
      const user = await signup(t.http);
      const { body } = await login(t.http, user);
      const stored = await t.dataSource
        .getRepository(Session)
        .createQueryBuilder('s')
        .addSelect('s.tokenHash')
        .where('s.id = :id', { id: body.session.id })
        .getOneOrFail();
      const found = await t.app.get(SessionsRepository).findWithUser(stored.tokenHash);
      // The guard's column lists come from the entities' metadata: a column added to Session or
      // User arrives here without anyone editing a list, and the select: false hashes never do.
      const selected = (entity: typeof Session | typeof User) =>
        t.dataSource.getMetadata(entity).columns.filter((c) => c.isSelect);
      const missing = (entity: typeof Session | typeof User, read: object) =>
        selected(entity)
          .map((c) => c.propertyName)
          .filter((property) => (read as Record<string, unknown>)[property] === undefined);
      expect(missing(Session, found!.session)).toEqual([]);
      expect(missing(User, found!.user)).toEqual([]);
      expect(found!.session.tokenHash).toBeUndefined();
      expect(found!.user.passwordHash).toBeUndefined();
      expect(selected(User).length).toBe(t.dataSource.getMetadata(User).columns.length - 1);
      // Values converted exactly as TypeORM converts them (dates, booleans, nulls).
      const { tokenHash: _hash, ...session } = stored;
      expect(found!.session).toEqual(Object.assign(new Session(), session));
      expect(found!.user).toEqual(await t.dataSource.getRepository(User).findOneByOrFail({ id: user.id }));
    });

    it('refuses every protected route without a session (default deny)', async () => {
      for (const [method, path] of [
        ['get', '/active_sessions'],
        ['delete', '/active_sessions'],
        ['delete', '/active_sessions/1'],
        ['get', '/userpage'],
        ['get', '/chats'],
        ['post', '/chats'],
        ['get', '/chats/1'],
        ['get', '/global_chat'],
        ['post', '/global_chat'],
      ] as const) {
        const res = await request(t.http)[method](path).send({});
        expect({ path, method, status: res.status }).toEqual({ path, method, status: 401 });
        expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', reason: 'missing' });
      }
    });

    it('ends a session past expires_at, marks it expired, and never extends it with activity', async () => {
      const user = await signup(t.http);
      const { cookie, body } = await login(t.http, user);
      t.clock.advance(1800);
      await request(t.http).get('/active_sessions').set('Cookie', cookie).expect(200);
      t.clock.advance(1799);
      await request(t.http).get('/active_sessions').set('Cookie', cookie).expect(200);
      t.clock.advance(2);
      const res = await request(t.http).get('/active_sessions').set('Cookie', cookie).expect(401);
      expect(res.body.reason).toBe('expired');
      const row = await t.dataSource.getRepository(Session).findOneByOrFail({ id: body.session.id });
      expect(row).toMatchObject({ isActive: false, endReason: 'expired' });
      expect(row.logoutTime).not.toBeNull();
      const status = await request(t.http).get('/session_status').set('Cookie', cookie).expect(401);
      expect(status.body).toMatchObject({ authenticated: false, reason: 'expired' });
    });

    it('refuses and ends the sessions of a deactivated user (account_disabled); re-enabling does not revive them', async () => {
      const user = await signup(t.http);
      const { cookie, body } = await login(t.http, user);
      const other = await login(t.http, user);
      await t.dataSource.getRepository(User).update({ id: user.id }, { isActive: false });
      const res = await request(t.http).get('/session_status').set('Cookie', cookie).expect(401);
      expect(res.body.reason).toBe('account_disabled');
      await request(t.http).get('/userpage').set('Cookie', other.cookie).expect(401);
      const row = await t.dataSource.getRepository(Session).findOneByOrFail({ id: body.session.id });
      expect(row).toMatchObject({ isActive: false, endReason: 'account_disabled' });
      await t.dataSource.getRepository(User).update({ id: user.id }, { isActive: true });
      const after = await request(t.http).get('/session_status').set('Cookie', cookie).expect(401);
      expect(after.body.reason).toBe('account_disabled');
    });

    it('ends every session at once when an account is deactivated (AuthService.deactivateAccount)', async () => {
      const user = await signup(t.http);
      const a = await login(t.http, user);
      const b = await login(t.http, user);
      await t.app.get(AuthService).deactivateAccount(user.id);
      expect(await t.dataSource.getRepository(Session).countBy({ userId: user.id, isActive: true })).toBe(0);
      for (const s of [a, b])
        expect((await request(t.http).get('/session_status').set('Cookie', s.cookie).expect(401)).body.reason).toBe(
          'account_disabled',
        );
      await request(t.http).post('/login').send({ email: user.email, password: user.password }).expect(403);
    });

    it('refuses a token issued under another SECRET_KEY (the database holds only keyed hashes)', async () => {
      const user = await signup(t.http);
      const { token, body } = await login(t.http, user);
      const other = await createTestApp({ SECRET_KEY: 'another-secret-key-that-is-long-enough-9876543210' });
      try {
        // Copy the session row (with its hash) into the other server's database.
        const row = await t.dataSource
          .getRepository(Session)
          .createQueryBuilder('s')
          .addSelect('s.tokenHash')
          .where('s.id = :id', { id: body.session.id })
          .getOneOrFail();
        const u = await t.dataSource
          .getRepository(User)
          .createQueryBuilder('u')
          .addSelect('u.passwordHash')
          .where('u.id = :id', { id: user.id })
          .getOneOrFail();
        const { identifiers } = await other.dataSource.getRepository(User).insert({ ...u });
        await other.dataSource.getRepository(Session).insert({ ...row, userId: identifiers[0].id as number });
        const res = await request(other.http)
          .get('/session_status')
          .set('Authorization', `Bearer ${token}`)
          .expect(401);
        expect(res.body.reason).toBe('invalid');
      } finally {
        await other.close();
      }
    });

    it('writes last_activity at most once a minute', async () => {
      const user = await signup(t.http);
      const { cookie, body } = await login(t.http, user);
      const read = async () =>
        (await t.dataSource.getRepository(Session).findOneByOrFail({ id: body.session.id })).lastActivity.getTime();
      const loginActivity = await read();
      t.clock.advance(30);
      await request(t.http).get('/active_sessions').set('Cookie', cookie).expect(200);
      expect(await read()).toBe(loginActivity);
      t.clock.advance(31);
      await request(t.http).get('/active_sessions').set('Cookie', cookie).expect(200);
      expect(await read()).toBeGreaterThanOrEqual(loginActivity + 61_000);
    });
  });

  describe('with an idle timeout', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ SESSION_TIMEOUT: '86400', SESSION_IDLE_TIMEOUT: '120' });
    });
    afterAll(() => t.close());

    it('keeps a session in use alive and ends one left idle longer than the timeout', async () => {
      const user = await signup(t.http);
      const { cookie, body } = await login(t.http, user);
      // In use: a request every 100 s stays within the 120 s idle timeout, many times over.
      for (let i = 0; i < 5; i++) {
        t.clock.advance(100);
        await request(t.http).get('/active_sessions').set('Cookie', cookie).expect(200);
      }
      t.clock.advance(121);
      const res = await request(t.http).get('/active_sessions').set('Cookie', cookie).expect(401);
      expect(res.body.reason).toBe('idle_timeout');
      const row = await t.dataSource.getRepository(Session).findOneByOrFail({ id: body.session.id });
      expect(row).toMatchObject({ isActive: false, endReason: 'idle_timeout' });
    });

    it('coalesces activity writes to at most a quarter of the idle timeout', async () => {
      const user = await signup(t.http);
      const { cookie, body } = await login(t.http, user);
      const read = async () =>
        (await t.dataSource.getRepository(Session).findOneByOrFail({ id: body.session.id })).lastActivity.getTime();
      const start = await read();
      t.clock.advance(31); // past 120 / 4 = 30 s
      await request(t.http).get('/active_sessions').set('Cookie', cookie).expect(200);
      expect(await read()).toBeGreaterThanOrEqual(start + 31_000);
    });

    it('does not list idle sessions as active', async () => {
      const user = await signup(t.http);
      const idle = await login(t.http, user, 'idle device');
      t.clock.advance(100);
      const busy = await login(t.http, user, 'busy device');
      t.clock.advance(30);
      const res = await request(t.http).get('/active_sessions').set('Cookie', busy.cookie).expect(200);
      expect(res.body.sessions.map((s: { id: number }) => s.id)).toEqual([busy.body.session.id]);
      expect(idle.body.session.id).not.toBe(busy.body.session.id);
    });
  });

  describe('across a restart on the same database file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'session-restart-'));
    const env = { DATABASE_URL: `sqlite:///${join(dir, 'users.db')}` };
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('keeps users and sessions: the same cookie works after the server restarts', async () => {
      const first = await createTestApp(env);
      const user = await signup(first.http);
      const { cookie, body } = await login(first.http, user);
      await first.close();

      const second = await createTestApp(env);
      try {
        const res = await request(second.http).get('/session_status').set('Cookie', cookie).expect(200);
        expect(res.body.session.id).toBe(body.session.id);
        await login(second.http, user);
      } finally {
        await second.close();
      }
    });
  });
});
