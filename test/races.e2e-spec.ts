import request from 'supertest';
import { PasswordHasher } from '../src/auth/password-hasher.service';
import { Session } from '../src/sessions/session.entity';
import { SessionsService } from '../src/sessions/sessions.service';
import { User } from '../src/users/user.entity';
import {
  createTestApp,
  login,
  sessionSetCookie,
  signup,
  type LoggedIn,
  type TestApp,
  type TestUser,
} from './utils/test-app';

const ADMIN = 'race-admin@example.com';
/** Logins raced against each change: more than the hashing slots, so they really overlap it. */
const LOGINS = 16;
/** Each race is run this many times (fresh user each time), so more interleavings are tried. */
const ROUNDS = 3;

/**
 * Credential changes against requests in flight (issue 17; docs/SECURITY.md "Credential
 * versions"). The races are real: the logins and the change are sent together, and which
 * interleaving happens is up to the scheduler, so the assertions are the invariants that must hold
 * whatever it is. The "held" tests then pin the interesting interleavings down by holding a login
 * at a chosen point.
 */
describe('Credential changes against logins in flight', () => {
  let t: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    t = await createTestApp({
      ADMIN_EMAILS: ADMIN,
      // Neither the session cap nor the failed-login limits may end or refuse anything here: what
      // is tested is the credential change alone.
      MAX_SESSIONS_PER_USER: '1000',
      LOGIN_LIMIT_ACCOUNT_ADDRESS: '1000000',
      LOGIN_LIMIT_ADDRESS: '1000000',
      LOGIN_LIMIT_ACCOUNT: '1000000',
      BCRYPT_MAX_PENDING: '1000',
    });
    admin = await signup(t.http, { email: ADMIN });
  });
  afterAll(() => t.close());

  const tryLogin = (user: Pick<TestUser, 'email' | 'password'>) =>
    request(t.http).post('/login').send({ email: user.email, password: user.password });
  const cookieOf = (res: request.Response) => {
    const token = /^session_token=([^;]*)/.exec(sessionSetCookie(res.headers['set-cookie']))?.[1];
    if (!token) throw new Error('no session cookie');
    return `session_token=${token}`;
  };
  const status = (cookie: string) => request(t.http).get('/session_status').set('Cookie', cookie);
  const versionOf = async (userId: number) =>
    (await t.dataSource.getRepository(User).findOneByOrFail({ id: userId })).credentialVersion;
  const sessionRow = (id: number) => t.dataSource.getRepository(Session).findOneByOrFail({ id });
  /** The sessions a client of the account can still use, as the account itself lists them. */
  const usableIds = async (cookie: string) =>
    (
      (await request(t.http).get('/active_sessions').set('Cookie', cookie).expect(200)).body.sessions as Array<{
        id: number;
      }>
    ).map((s) => s.id);

  /**
   * Sends LOGINS logins and `change` together: half the logins before the change and half after,
   * so that some are checking the password while the change commits. Returns every answer.
   */
  async function race(
    user: TestUser,
    change: () => request.Test,
  ): Promise<{ logins: request.Response[]; change: request.Response }> {
    // A supertest request is sent when it is first awaited (`then`), so these go out in this order.
    const send = (n: number) => Array.from({ length: n }, () => tryLogin(user).then((res) => res));
    const first = send(LOGINS / 2);
    const changed = change().then((res) => res);
    const second = send(LOGINS / 2);
    const [logins, answer] = await Promise.all([Promise.all([...first, ...second]), changed]);
    return { logins, change: answer };
  }

  /** Every login's answer is one of `allowed`; returns the cookies of those that got 200. */
  function cookiesOf(logins: request.Response[], allowed: number[]): Array<{ cookie: string; sessionId: number }> {
    for (const res of logins) expect(allowed).toContain(res.status);
    return logins
      .filter((res) => res.status === 200)
      .map((res) => ({ cookie: cookieOf(res), sessionId: res.body.session.id as number }));
  }

  it('a password change leaves no usable session from any login with the old password, however they interleave', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const user = await signup(t.http);
      const caller = await login(t.http, user, 'Caller');
      const newPassword = `a new password ${round}`;
      const { logins, change } = await race(user, () =>
        request(t.http)
          .post('/change_password')
          .set('Cookie', caller.cookie)
          .send({ current_password: user.password, new_password: newPassword }),
      );
      expect(change.status).toBe(200);
      const replacement = cookieOf(change);

      // A login with the old password either failed like a wrong password, or got a session that
      // no longer works now that the change has answered.
      for (const { cookie } of cookiesOf(logins, [200, 401])) {
        const res = await status(cookie).expect(401);
        expect(res.body.reason).toBe('revoked');
      }
      for (const res of logins.filter((r) => r.status === 401))
        expect(res.body.message).toBe('Invalid email or password');
      await status(caller.cookie).expect(401);

      // What is left: the caller's replacement, then whatever signs in with the new password.
      const current = (await status(replacement).expect(200)).body.session.id as number;
      expect(await usableIds(replacement)).toEqual([current]);
      await tryLogin(user).expect(401);
      const fresh = await login(t.http, { email: user.email, password: newPassword });
      expect((await usableIds(replacement)).sort()).toEqual([current, fresh.body.session.id].sort());
    }
  });

  it('a disable leaves no usable session from a login that raced it, not even after the account is re-enabled', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const user = await signup(t.http);
      const adminSession = await login(t.http, admin);
      const before = await login(t.http, user);
      const { logins, change } = await race(user, () =>
        request(t.http).post(`/admin/users/${user.id}/disable`).set('Cookie', adminSession.cookie),
      );
      expect(change.status).toBe(200);
      const raced = cookiesOf(logins, [200, 403]);
      for (const res of logins.filter((r) => r.status === 403))
        expect(res.body.message).toBe('This account is disabled');
      for (const { cookie } of [...raced, before]) {
        const res = await status(cookie).expect(401);
        expect(['account_disabled', 'revoked']).toContain(res.body.reason);
      }

      await request(t.http).post(`/admin/users/${user.id}/enable`).set('Cookie', adminSession.cookie).expect(200);
      for (const { cookie } of [...raced, before]) await status(cookie).expect(401);
      const after = await login(t.http, user);
      expect(await usableIds(after.cookie)).toEqual([after.body.session.id]);
    }
  });

  it("an administrator's end-sessions leaves no usable session from a login that raced it", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const user = await signup(t.http);
      const adminSession = await login(t.http, admin);
      const { logins, change } = await race(user, () =>
        request(t.http).delete(`/admin/users/${user.id}/sessions`).set('Cookie', adminSession.cookie),
      );
      expect(change.status).toBe(200);
      const after = await versionOf(user.id);
      // A login that got 200 while the change ran: usable only if it read the account after the
      // change (born under the version the change moved to), refused (revoked) otherwise.
      for (const { cookie, sessionId } of cookiesOf(logins, [200, 409])) {
        const res = await status(cookie);
        const bornAfter = (await sessionRow(sessionId)).credentialVersion === after;
        expect(res.status).toBe(bornAfter ? 200 : 401);
        if (!bornAfter) expect(['revoked_by_admin', 'revoked']).toContain(res.body.reason);
      }
      for (const res of logins.filter((r) => r.status === 409)) expect(res.body.error).toBe('Conflict');
    }
  });

  it("DELETE /active_sessions ends every other session, those of logins in flight included; the caller's survives", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const user = await signup(t.http);
      const caller = await login(t.http, user, 'Caller');
      const { logins, change } = await race(user, () =>
        request(t.http).delete('/active_sessions').set('Cookie', caller.cookie),
      );
      expect(change.status).toBe(200);
      const after = await versionOf(user.id);
      expect(after).toBe((await sessionRow(caller.body.session.id)).credentialVersion);
      await status(caller.cookie).expect(200);

      const usable = [caller.body.session.id];
      for (const { cookie, sessionId } of cookiesOf(logins, [200, 409])) {
        const res = await status(cookie);
        const bornAfter = (await sessionRow(sessionId)).credentialVersion === after;
        expect(res.status).toBe(bornAfter ? 200 : 401);
        if (bornAfter) usable.push(sessionId);
        else expect(res.body.reason).toBe('revoked');
      }
      expect((await usableIds(caller.cookie)).sort()).toEqual(usable.sort());
    }
  });

  it('of concurrent password changes from one session exactly one succeeds; the others get 409 or 401 and change nothing', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const user = await signup(t.http);
      const caller = await login(t.http, user);
      const passwords = [0, 1, 2, 3].map((i) => `new password ${round}-${i}`);
      const answers = await Promise.all(
        passwords.map((newPassword) =>
          request(t.http)
            .post('/change_password')
            .set('Cookie', caller.cookie)
            .send({ current_password: user.password, new_password: newPassword })
            .then((res) => res),
        ),
      );
      const winners = answers.filter((res) => res.status === 200);
      expect(winners).toHaveLength(1);
      for (const res of answers.filter((r) => r.status !== 200)) {
        expect([401, 409]).toContain(res.status);
        expect(res.headers['set-cookie']).toBeUndefined();
      }
      // The password is the winner's, and its replacement session is the account's only one.
      const won = passwords[answers.indexOf(winners[0])];
      for (const password of passwords.filter((p) => p !== won)) await tryLogin({ ...user, password }).expect(401);
      const replacement = cookieOf(winners[0]);
      expect(await usableIds(replacement)).toHaveLength(1);
      await login(t.http, { email: user.email, password: won });
    }
  });

  describe('held at a chosen point', () => {
    /**
     * Holds the next call of `object[method]` until `release()`; `reached` resolves once it is
     * held. Later calls run as usual.
     */
    function holdNextCall<T extends object>(object: T, method: keyof T & string) {
      const original = (object[method] as (...args: unknown[]) => Promise<unknown>).bind(object);
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let arrive!: () => void;
      const reached = new Promise<void>((resolve) => (arrive = resolve));
      const spy = jest.spyOn(object, method as never).mockImplementationOnce((async (...args: unknown[]) => {
        arrive();
        await released;
        return original(...args);
      }) as never);
      return { reached, release, restore: () => spy.mockRestore() };
    }

    /** A login held while checking the password (it has read the hash and version), then `change`, then the login goes on. */
    async function loginHeldAcross(user: TestUser, change: () => Promise<unknown>): Promise<request.Response> {
      const hold = holdNextCall(t.app.get(PasswordHasher), 'check');
      try {
        const held = tryLogin(user).then((res) => res);
        await hold.reached;
        await change();
        hold.release();
        return await held;
      } finally {
        hold.restore();
      }
    }

    const sessionsOf = (userId: number) => t.dataSource.getRepository(Session).countBy({ userId });

    it('a login that checked the old password before a password change gets the 401 of a wrong password, and no session', async () => {
      const user = await signup(t.http);
      const caller = await login(t.http, user);
      const before = await sessionsOf(user.id);
      const res = await loginHeldAcross(user, () =>
        request(t.http)
          .post('/change_password')
          .set('Cookie', caller.cookie)
          .send({ current_password: user.password, new_password: 'the new password' })
          .expect(200),
      );
      expect(res.status).toBe(401);
      expect(res.body.message).toBe('Invalid email or password');
      expect(res.headers['set-cookie']).toBeUndefined();
      // The old session was replaced by one: as many rows as before, none from the held login.
      expect(await sessionsOf(user.id)).toBe(before + 1);
    });

    it('a login held across a disable gets 403, and none after the re-enable either', async () => {
      const user = await signup(t.http);
      const adminSession = await login(t.http, admin);
      const before = await sessionsOf(user.id);
      const res = await loginHeldAcross(user, () =>
        request(t.http).post(`/admin/users/${user.id}/disable`).set('Cookie', adminSession.cookie).expect(200),
      );
      expect(res.status).toBe(403);
      expect(await sessionsOf(user.id)).toBe(before);
      await request(t.http).post(`/admin/users/${user.id}/enable`).set('Cookie', adminSession.cookie).expect(200);
      await login(t.http, user);
    });

    it('a login held across an "end all" gets 409 and no session; signing in again works', async () => {
      const user = await signup(t.http);
      const caller = await login(t.http, user);
      const before = await sessionsOf(user.id);
      const res = await loginHeldAcross(user, () =>
        request(t.http).delete('/active_sessions').set('Cookie', caller.cookie).expect(200),
      );
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ statusCode: 409, error: 'Conflict' });
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(await sessionsOf(user.id)).toBe(before);
      await status(caller.cookie).expect(200);
      const again = await login(t.http, user);
      await status(again.cookie).expect(200);
    });

    it('a login that recorded itself before a password change commits gets a session the change makes stale', async () => {
      const user = await signup(t.http);
      const caller: LoggedIn = await login(t.http, user);
      // Held inside its transaction, after its conditional write to the user's row.
      const hold = holdNextCall(t.app.get(SessionsService), 'start');
      try {
        const held = tryLogin(user).then((res) => res);
        await hold.reached;
        // On PostgreSQL the change waits for the held login's row lock; it is sent, then the login
        // goes on, and the change commits after it.
        const change = request(t.http)
          .post('/change_password')
          .set('Cookie', caller.cookie)
          .send({ current_password: user.password, new_password: 'the new password' })
          .then((r) => r);
        await new Promise((resolve) => setTimeout(resolve, 50));
        hold.release();
        const [res, changed] = await Promise.all([held, change]);
        expect(changed.status).toBe(200);
        expect(res.status).toBe(200);
        const refused = await status(cookieOf(res)).expect(401);
        expect(refused.body.reason).toBe('revoked');
      } finally {
        hold.restore();
      }
    });

    it('a password change whose session was ended by a concurrent one gets 409 and changes nothing', async () => {
      const user = await signup(t.http);
      const caller = await login(t.http, user);
      // The first change is held while checking the current password; the second one goes through.
      const hold = holdNextCall(t.app.get(PasswordHasher), 'check');
      try {
        const first = request(t.http)
          .post('/change_password')
          .set('Cookie', caller.cookie)
          .send({ current_password: user.password, new_password: 'the first new password' })
          .then((r) => r);
        await hold.reached;
        await request(t.http)
          .post('/change_password')
          .set('Cookie', caller.cookie)
          .send({ current_password: user.password, new_password: 'the second new password' })
          .expect(200);
        hold.release();
        const res = await first;
        expect(res.status).toBe(409);
        expect(res.headers['set-cookie']).toBeUndefined();
      } finally {
        hold.restore();
      }
      await tryLogin({ ...user, password: 'the first new password' }).expect(401);
      await login(t.http, { email: user.email, password: 'the second new password' });
    });
  });
});
