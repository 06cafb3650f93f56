import request from 'supertest';
import { Session } from '../src/sessions/session.entity';
import { createTestApp, login, signup, type TestApp } from './utils/test-app';

/**
 * The original implementation guide's "Manual Testing Checklist", item by item, as one story
 * through the API (each item is also covered in depth by the feature specs).
 */
describe("The original guide's manual testing checklist", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SESSION_TIMEOUT: '600' });
  });
  afterAll(() => t.close());

  it('passes every item in order', async () => {
    // [x] User can sign up
    const user = await signup(t.http, { name: 'Checklist User' });

    // [x] User can login
    const laptop = await login(t.http, user, 'Laptop');

    // [x] Session is created in database
    const row = await t.dataSource.getRepository(Session).findOneByOrFail({ id: laptop.body.session.id });
    expect(row).toMatchObject({ userId: user.id, isActive: true, userAgent: 'Laptop', logoutTime: null });

    // [x] Session status shows correct info
    const status = await request(t.http).get('/session_status').set('Cookie', laptop.cookie).expect(200);
    expect(status.body).toMatchObject({
      authenticated: true,
      user: { id: user.id, email: user.email },
      session: { id: row.id, current: true },
    });
    expect(status.body.expires_in).toBeLessThanOrEqual(600);

    // [x] Multiple devices can be logged in simultaneously
    const phone = await login(t.http, user, 'Phone');
    await request(t.http).get('/session_status').set('Cookie', laptop.cookie).expect(200);
    await request(t.http).get('/session_status').set('Cookie', phone.cookie).expect(200);

    // [x] User can see active sessions
    const list = await request(t.http).get('/active_sessions').set('Cookie', laptop.cookie).expect(200);
    expect(list.body.sessions.map((s: { user_agent: string }) => s.user_agent).sort()).toEqual(['Laptop', 'Phone']);

    // [x] User can logout
    await request(t.http).get('/logout').set('Cookie', laptop.cookie).expect(200);

    // [x] Session is marked as inactive after logout
    const ended = await t.dataSource.getRepository(Session).findOneByOrFail({ id: row.id });
    expect(ended.isActive).toBe(false);
    expect(ended.logoutTime).not.toBeNull();

    // [x] Accessing protected pages redirects to login if not authenticated
    const page = await request(t.http)
      .get('/userpage')
      .set('Cookie', laptop.cookie)
      .set('Accept', 'text/html')
      .expect(302);
    expect(page.headers.location).toBe('/login_page');

    // [x] Session expires after timeout
    await request(t.http).get('/userpage').set('Cookie', phone.cookie).expect(200);
    t.clock.advance(601);
    const expired = await request(t.http).get('/session_status').set('Cookie', phone.cookie).expect(401);
    expect(expired.body.reason).toBe('expired');
  });
});
