import request from 'supertest';
import { Session } from '../src/sessions/session.entity';
import { User } from '../src/users/user.entity';
import { createTestApp, login, sessionSetCookie, signup, type TestApp } from './utils/test-app';

describe('POST /change_password', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const hashOf = async (id: number) =>
    (
      await t.dataSource
        .getRepository(User)
        .createQueryBuilder('u')
        .addSelect('u.passwordHash')
        .where('u.id = :id', { id })
        .getOneOrFail()
    ).passwordHash;

  it("changes the password, ends every other session (revoked) and replaces the caller's with a fresh cookie", async () => {
    const user = await signup(t.http);
    const laptop = await login(t.http, user, 'Laptop');
    const phone = await login(t.http, user, 'Phone');
    const tablet = await login(t.http, user, 'Tablet');

    const res = await request(t.http)
      .post('/change_password')
      .set('Cookie', laptop.cookie)
      .set('User-Agent', 'Laptop')
      .send({ current_password: user.password, new_password: 'a brand new password' })
      .expect(200);
    expect(res.body).toEqual({ revoked: 2 });

    const setCookie = sessionSetCookie(res.headers['set-cookie']);
    const newToken = /^session_token=([^;]+)/.exec(setCookie)?.[1];
    expect(newToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newToken).not.toBe(laptop.token);
    expect(setCookie).toMatch(/HttpOnly/);

    for (const old of [laptop, phone, tablet]) {
      const status = await request(t.http).get('/session_status').set('Cookie', old.cookie).expect(401);
      expect(status.body.reason).toBe('revoked');
    }
    const fresh = await request(t.http).get('/session_status').set('Cookie', `session_token=${newToken}`).expect(200);
    expect(fresh.body.session.id).not.toBe(laptop.body.session.id);
    expect(fresh.body.session.user_agent).toBe('Laptop');
    expect(await t.dataSource.getRepository(Session).countBy({ userId: user.id, isActive: true })).toBe(1);

    await request(t.http).post('/login').send({ email: user.email, password: user.password }).expect(401);
    await login(t.http, { email: user.email, password: 'a brand new password' });
  });

  it('gives the replacement the methods its predecessor was made with (amr)', async () => {
    const user = await signup(t.http);
    const laptop = await login(t.http, user, 'Laptop');
    expect(laptop.body.session.amr).toEqual(['pwd']);
    // As a sign-in with a second factor leaves it.
    await t.dataSource.getRepository(Session).update(laptop.body.session.id, { authMethods: 'pwd otp mfa' });
    const res = await request(t.http)
      .post('/change_password')
      .set('Cookie', laptop.cookie)
      .send({ current_password: user.password, new_password: 'a brand new password' })
      .expect(200);
    const cookie = sessionSetCookie(res.headers['set-cookie']).split(';')[0];
    const status = await request(t.http).get('/session_status').set('Cookie', cookie).expect(200);
    expect(status.body.session.amr).toEqual(['pwd', 'otp', 'mfa']);
  });

  it('refuses a wrong current password with 401 and changes nothing', async () => {
    const user = await signup(t.http);
    const laptop = await login(t.http, user);
    const phone = await login(t.http, user);
    const before = await hashOf(user.id);
    const res = await request(t.http)
      .post('/change_password')
      .set('Cookie', laptop.cookie)
      .send({ current_password: 'not my password', new_password: 'a brand new password' })
      .expect(401);
    expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await hashOf(user.id)).toBe(before);
    await request(t.http).get('/session_status').set('Cookie', laptop.cookie).expect(200);
    await request(t.http).get('/session_status').set('Cookie', phone.cookie).expect(200);
  });

  it.each([
    ['a short new password', { current_password: 'x', new_password: 'short' }, 'new_password'],
    ['a new password over 72 bytes', { current_password: 'x', new_password: 'é'.repeat(37) }, 'new_password'],
    ['no current password', { new_password: 'a brand new password' }, 'current_password'],
    ['an extra field', { current_password: 'x', new_password: 'a brand new password', user_id: 1 }, 'user_id'],
  ])('refuses %s with 400 naming the field, changing nothing', async (_case, body, field) => {
    const user = await signup(t.http);
    const { cookie } = await login(t.http, user);
    const before = await hashOf(user.id);
    const res = await request(t.http).post('/change_password').set('Cookie', cookie).send(body).expect(400);
    expect((res.body.message as string[]).some((m) => m.includes(field))).toBe(true);
    expect(await hashOf(user.id)).toBe(before);
  });

  it('counts wrong current passwords against the failed-login limits (429, even for the right one)', async () => {
    const user = await signup(t.http);
    const { cookie } = await login(t.http, user);
    const change = (current: string) =>
      request(t.http)
        .post('/change_password')
        .set('Cookie', cookie)
        .send({ current_password: current, new_password: 'a brand new password' });
    for (let i = 0; i < 5; i++) await change('guess number ' + i).expect(401);
    const blocked = await change(user.password).expect(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    await request(t.http).post('/login').send({ email: user.email, password: user.password }).expect(429);
    await request(t.http).get('/session_status').set('Cookie', cookie).expect(200);
  });

  it('needs a session', async () => {
    const res = await request(t.http)
      .post('/change_password')
      .send({ current_password: 'x', new_password: 'a brand new password' })
      .expect(401);
    expect(res.body.reason).toBe('missing');
  });
});
