import request from 'supertest';
import { LAST_WRONG_SECOND_FACTOR, SIGN_IN_AGAIN, WRONG_SECOND_FACTOR } from '../src/auth/second-factor.service';
import { PendingSignIn } from '../src/factors/pending-sign-in.entity';
import { RecoveryCode } from '../src/factors/recovery-code.entity';
import { TotpFactor } from '../src/factors/totp-factor.entity';
import { TOTP_PERIOD_SECONDS, totpOf } from '../src/factors/totp-secret';
import { NO_PENDING_SETUP, WRONG_CODE } from '../src/factors/totp.service';
import { mailedToken, mailsInFolder } from './utils/mail-folder';
import { ROUTES, type CatalogueRoute } from './utils/routes';
import { createTestApp, login, sessionSetCookie, signup, type TestApp, type TestUser } from './utils/test-app';

const PASSWORD_CHANGED = 'another good password';
const RECOVERY_CODE = /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/;

/** The app's code for the time step `steps` away from the app clock's now, computed here as an app would. */
function codeAt(t: TestApp, secret: string, steps = 0): string {
  return totpOf(secret, 'test').generate({ timestamp: t.clock.now().getTime() + steps * TOTP_PERIOD_SECONDS * 1000 });
}

/** A code of six digits that is not `code`. */
function wrongCode(code: string): string {
  return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
}

/**
 * Moves the app's clock (real time plus an offset) to one second into the next time step, so that a
 * test has about 29 seconds of real time before the step turns under it.
 */
function startOfNextStep(t: TestApp): void {
  const ms = t.clock.now().getTime() % (TOTP_PERIOD_SECONDS * 1000);
  t.clock.advance((TOTP_PERIOD_SECONDS * 1000 - ms + 1000) / 1000);
}

/** The value a Set-Cookie line gives cookie `name`, with its attributes; undefined when none sets it. */
function setCookieLine(res: request.Response, name: string): string | undefined {
  const header = res.headers['set-cookie'] as unknown as string[] | undefined;
  return (header ?? []).find((line) => line.startsWith(`${name}=`));
}

function pendingCookie(res: request.Response): string {
  const line = setCookieLine(res, 'second_factor');
  const token = /^second_factor=([^;]+)/.exec(line ?? '')?.[1];
  if (!token) throw new Error(`no second_factor cookie: ${line}`);
  return token;
}

interface Enrolled {
  user: TestUser;
  /** The enrolling session's cookie. */
  cookie: string;
  secret: string;
  recoveryCodes: string[];
}

describe('Authenticator app (TOTP) and the second step at login', () => {
  let t: TestApp;

  afterEach(async () => {
    await t?.close();
  });

  const post = (path: string, body: object = {}, cookie?: string) => {
    const req = request(t.http).post(path);
    if (cookie) void req.set('Cookie', cookie);
    return req.send(body);
  };

  /** Signs up, logs in, sets the app up and confirms it; the next code to use is of a later step. */
  async function enrol(user?: TestUser): Promise<Enrolled> {
    const account = user ?? (await signup(t.http));
    const { cookie } = await login(t.http, account);
    startOfNextStep(t);
    const setup = await post('/totp/setup', {}, cookie).expect(200);
    const secret = setup.body.secret as string;
    const confirm = await post('/totp/confirm', { code: codeAt(t, secret) }, cookie).expect(200);
    // The confirming code's step is used: the next sign-in needs the next step's code.
    startOfNextStep(t);
    return { user: account, cookie, secret, recoveryCodes: confirm.body.recovery_codes as string[] };
  }

  /** POST /login with the right password on an account with the app on: the pending token. */
  async function pendingLogin(user: TestUser, extra: object = {}): Promise<string> {
    const res = await post('/login', { email: user.email, password: user.password, ...extra }).expect(200);
    expect(res.body).toMatchObject({ second_factor_required: true });
    return pendingCookie(res);
  }

  const secondStep = (pending: string, body: object) => post('/login/second_factor', body, `second_factor=${pending}`);

  const activity = async (cookie: string) =>
    (
      (await request(t.http).get('/login_activity').set('Cookie', cookie).expect(200)).body.attempts as Array<{
        reason: string;
      }>
    ).map((a) => a.reason);

  describe('setting up', () => {
    beforeEach(async () => {
      t = await createTestApp();
    });

    it('sets up with a secret, URI and QR code; a first code turns it on and answers ten recovery codes, shown once', async () => {
      const user = await signup(t.http);
      const { cookie } = await login(t.http, user);
      await login(t.http, user, 'another-device');
      startOfNextStep(t);
      const setup = await post('/totp/setup', {}, cookie).expect(200);
      expect(setup.headers['cache-control']).toBe('no-store');
      const { secret, otpauth_uri: uri, qr_svg: svg } = setup.body as Record<string, string>;
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);
      const parsed = new URL(uri);
      expect(parsed.protocol).toBe('otpauth:');
      expect(parsed.searchParams.get('secret')).toBe(secret);
      expect(parsed.searchParams.get('issuer')).toBe('Session server');
      expect(parsed.searchParams.get('digits')).toBe('6');
      expect(parsed.searchParams.get('period')).toBe('30');
      expect(decodeURIComponent(parsed.pathname)).toContain(user.email);
      expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      expect(svg).not.toMatch(/<script|href=/i);

      // Stored encrypted: the secret is nowhere in the row.
      const row = await t.dataSource
        .getRepository(TotpFactor)
        .createQueryBuilder('f')
        .addSelect('f.secretEncrypted')
        .where('f.user_id = :id', { id: user.id })
        .getOneOrFail();
      expect(row.confirmedAt).toBeNull();
      expect(row.secretEncrypted).not.toContain(secret);
      expect(row.secretEncrypted).toMatch(/^v1\./);

      // Pending: a login is still one step.
      await login(t.http, user);

      const confirm = await post('/totp/confirm', { code: codeAt(t, secret) }, cookie).expect(200);
      expect(confirm.body.other_sessions).toBe(2);
      const codes = confirm.body.recovery_codes as string[];
      expect(codes).toHaveLength(10);
      expect(new Set(codes).size).toBe(10);
      for (const code of codes) expect(code).toMatch(RECOVERY_CODE);

      // Stored as keyed hashes only.
      const stored = await t.dataSource
        .getRepository(RecoveryCode)
        .createQueryBuilder('c')
        .addSelect('c.codeHash')
        .where('c.user_id = :id', { id: user.id })
        .getMany();
      expect(stored).toHaveLength(10);
      const hashes = stored.map((c) => c.codeHash).join(' ');
      for (const code of codes) expect(hashes).not.toContain(code.replace(/-/g, ''));

      // Shown once: nothing reads them again, and a second setup is refused while the app is on.
      expect((await post('/totp/confirm', { code: codeAt(t, secret) }, cookie).expect(400)).body.message).toBe(
        NO_PENDING_SETUP,
      );
      await post('/totp/setup', {}, cookie).expect(409);

      const mails = (await mailsInFolder(t)).filter((m) => m.to === user.email);
      const notice = mails.find((m) => m.subject === 'An authenticator app now protects your account');
      expect(notice?.text).toContain('/userpage');
      expect(notice?.text).not.toContain(secret);
      for (const code of codes) expect(notice?.text).not.toContain(code);
    });

    it('refuses a wrong code at confirmation (400) and leaves the app off; confirming needs a setup first (400)', async () => {
      const user = await signup(t.http);
      const { cookie } = await login(t.http, user);
      expect((await post('/totp/confirm', { code: '123456' }, cookie).expect(400)).body.message).toBe(NO_PENDING_SETUP);
      startOfNextStep(t);
      const { secret } = (await post('/totp/setup', {}, cookie).expect(200)).body as { secret: string };
      const res = await post('/totp/confirm', { code: wrongCode(codeAt(t, secret)) }, cookie).expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: WRONG_CODE });
      // A code two steps away is outside the window.
      await post('/totp/confirm', { code: codeAt(t, secret, 2) }, cookie).expect(400);
      const still = await post('/login', { email: user.email, password: user.password }).expect(200);
      expect(still.body.session).toBeDefined();
      // A new setup replaces the pending secret: the old one's codes no longer confirm.
      const again = (await post('/totp/setup', {}, cookie).expect(200)).body as { secret: string };
      expect(again.secret).not.toBe(secret);
      await post('/totp/confirm', { code: codeAt(t, secret) }, cookie).expect(400);
      await post('/totp/confirm', { code: codeAt(t, again.secret) }, cookie).expect(200);
    });

    it('needs a session for every route of its own, and a recent password to set up', async () => {
      await post('/totp/setup').expect(401);
      await post('/totp/confirm', { code: '123456' }).expect(401);
      await request(t.http).delete('/totp').expect(401);
      await post('/recovery_codes').expect(401);
      const user = await signup(t.http);
      const { cookie } = await login(t.http, user);
      t.clock.advance(t.config.reauthMaxAge + 1);
      const res = await post('/totp/setup', {}, cookie).expect(403);
      expect(res.body.reason).toBe('reauthentication_required');
      await post('/reauthenticate', { password: user.password }, cookie).expect(200);
      await post('/totp/setup', {}, cookie).expect(200);
    });

    it('makes ten new recovery codes on request (recent password), the old ones void, with a notice', async () => {
      const { user, cookie, recoveryCodes } = await enrol();
      await post('/recovery_codes', {}, cookie).expect(200);
      const fresh = (await post('/recovery_codes', {}, cookie).expect(200)).body.recovery_codes as string[];
      expect(fresh).toHaveLength(10);
      let pending = await pendingLogin(user);
      await secondStep(pending, { recovery_code: recoveryCodes[0] }).expect(401);
      pending = await pendingLogin(user);
      await secondStep(pending, { recovery_code: fresh[0] }).expect(200);
      const subjects = (await mailsInFolder(t)).filter((m) => m.to === user.email).map((m) => m.subject);
      expect(subjects.filter((s) => s === 'New recovery codes for your account')).toHaveLength(2);
      t.clock.advance(t.config.reauthMaxAge + 1);
      expect((await post('/recovery_codes', {}, cookie).expect(403)).body.reason).toBe('reauthentication_required');
    });
  });

  describe('the second step at login', () => {
    beforeEach(async () => {
      t = await createTestApp();
    });

    it('answers second_factor_required with no session, and the pending token opens no guarded route', async () => {
      const { user } = await enrol();
      const res = await post('/login', { email: user.email, password: user.password, return_token: true }).expect(200);
      expect(res.body).toEqual({
        second_factor_required: true,
        methods: ['otp', 'recovery_code'],
        expires_in: 300,
        pending_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      });
      expect(sessionSetCookie(res.headers['set-cookie'])).toBe('');
      const line = setCookieLine(res, 'second_factor')!;
      expect(line).toMatch(/; Max-Age=300/);
      expect(line).toMatch(/; Path=\/login(;|$)/);
      expect(line).toMatch(/; HttpOnly/);
      expect(line).toMatch(/; SameSite=Lax/);
      const pending = pendingCookie(res);
      expect(res.body.pending_token).toBe(pending);
      const withoutToken = await post('/login', { email: user.email, password: user.password }).expect(200);
      expect(withoutToken.body.pending_token).toBeUndefined();

      // Every route that needs a session refuses it, however it is presented.
      const guarded = ROUTES.filter((r: CatalogueRoute) => r.access === 'session');
      expect(guarded.length).toBeGreaterThan(10);
      const path = (r: CatalogueRoute) => r.path.replace(':id', '1').replace(':user_id', '1');
      for (const route of guarded) {
        for (const credential of [
          { Authorization: `Bearer ${pending}` },
          { Cookie: `session_token=${pending}` },
          { Cookie: `second_factor=${pending}` },
        ]) {
          const r = await request(t.http)[route.method](path(route)).set(credential).set('Accept', 'application/json');
          expect([route.method, route.path, r.status]).toEqual([route.method, route.path, 401]);
        }
      }
      const status = await request(t.http).get('/session_status').set('Authorization', `Bearer ${pending}`).expect(401);
      expect(status.body).toMatchObject({ authenticated: false, reason: 'invalid' });
      await request(t.http).get('/session_status').set('Cookie', `second_factor=${pending}`).expect(401);
      expect(await t.dataSource.getRepository(PendingSignIn).count()).toBe(2);
    });

    it('a right code starts the session (amr pwd otp mfa), clears the pending cookie and finishes the sign-in once', async () => {
      const { user, secret } = await enrol();
      const pending = await pendingLogin(user, { remember_me: true });
      const res = await secondStep(pending, { code: codeAt(t, secret) }).expect(200);
      expect(res.body.user).toMatchObject({ id: user.id, email: user.email });
      expect(res.body.session).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], remember_me: true, current: true });
      expect(res.body.token).toBeUndefined();
      expect(setCookieLine(res, 'second_factor')).toMatch(/^second_factor=;.*Expires=Thu, 01 Jan 1970/);
      const session = sessionSetCookie(res.headers['set-cookie']);
      const cookie = /^(session_token=[^;]+)/.exec(session)![1];
      const status = await request(t.http).get('/session_status').set('Cookie', cookie).expect(200);
      expect(status.body.session.amr).toEqual(['pwd', 'otp', 'mfa']);
      // Finished: the same pending sign-in takes nothing more.
      t.clock.advance(TOTP_PERIOD_SECONDS);
      const again = await secondStep(pending, { code: codeAt(t, secret) }).expect(401);
      expect(again.body.message).toBe(SIGN_IN_AGAIN);
      // A client without cookies: pending_token in the body, the session token back.
      const res2 = await post('/login', { email: user.email, password: user.password, return_token: true }).expect(200);
      // The finished row went as the new one came.
      expect(await t.dataSource.getRepository(PendingSignIn).count()).toBe(1);
      const bearer = await post('/login/second_factor', {
        pending_token: res2.body.pending_token,
        code: codeAt(t, secret),
        return_token: true,
      }).expect(200);
      await request(t.http).get('/session_status').set('Authorization', `Bearer ${bearer.body.token}`).expect(200);
      expect(await activity(cookie)).toEqual(['ok', 'second_factor', 'ok', 'second_factor', 'ok']);
    });

    it('refuses a wrong code, a reused one and an older one; accepts one step either side of now', async () => {
      const { user, cookie, secret } = await enrol();
      let pending = await pendingLogin(user);
      const wrong = await secondStep(pending, { code: wrongCode(codeAt(t, secret)) }).expect(401);
      expect(wrong.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: WRONG_SECOND_FACTOR });
      const now = codeAt(t, secret);
      await secondStep(pending, { code: now }).expect(200);
      // The same code again, on a new sign-in: refused, and so is the previous step's (inside the window).
      pending = await pendingLogin(user);
      await secondStep(pending, { code: now }).expect(401);
      await secondStep(pending, { code: codeAt(t, secret, -1) }).expect(401);
      // The next step's code (+1) is accepted now...
      await secondStep(pending, { code: codeAt(t, secret, 1) }).expect(200);
      // ...and then now's own code is older than it: refused.
      pending = await pendingLogin(user);
      await secondStep(pending, { code: codeAt(t, secret) }).expect(401);
      // Three steps on, the previous step's code (-1) is accepted.
      t.clock.advance(3 * TOTP_PERIOD_SECONDS);
      pending = await pendingLogin(user);
      await secondStep(pending, { code: codeAt(t, secret, -2) }).expect(401);
      await secondStep(pending, { code: codeAt(t, secret, -1) }).expect(200);
      expect((await activity(cookie)).slice(0, 6)).toEqual([
        'ok',
        'bad_code',
        'second_factor',
        'bad_code',
        'second_factor',
        'ok',
      ]);
    });

    it('spends the pending sign-in at the fifth wrong code, then throttles codes (429) until the window passes', async () => {
      const { user, cookie, secret } = await enrol();
      let pending = await pendingLogin(user);
      const wrong = wrongCode(codeAt(t, secret));
      for (let i = 0; i < 4; i++)
        expect((await secondStep(pending, { code: wrong }).expect(401)).body.message).toBe(WRONG_SECOND_FACTOR);
      expect((await secondStep(pending, { code: wrong }).expect(401)).body.message).toBe(LAST_WRONG_SECOND_FACTOR);
      // Spent: even the right code gets "sign in again".
      expect((await secondStep(pending, { code: codeAt(t, secret) }).expect(401)).body.message).toBe(SIGN_IN_AGAIN);

      // The password is still accepted (its failures are counted apart), but codes for this account
      // from this address are throttled, the right one too.
      pending = await pendingLogin(user);
      const throttled = await secondStep(pending, { code: codeAt(t, secret) }).expect(429);
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(throttled.headers['retry-after'])).toBeLessThanOrEqual(t.config.loginLimits.windowSeconds);

      t.clock.advance(t.config.loginLimits.windowSeconds);
      startOfNextStep(t);
      pending = await pendingLogin(user);
      await secondStep(pending, { code: codeAt(t, secret) }).expect(200);
      expect((await activity(cookie)).slice(0, 10)).toEqual([
        'ok',
        'second_factor',
        'throttled',
        'second_factor',
        'bad_code',
        'bad_code',
        'bad_code',
        'bad_code',
        'bad_code',
        'second_factor',
      ]);
    });

    it('lets exactly one of racing requests win: one pending sign-in finished twice, one code on two sign-ins', async () => {
      const { user, cookie, secret } = await enrol();
      const pending = await pendingLogin(user);
      const code = codeAt(t, secret);
      const twice = await Promise.all([secondStep(pending, { code }), secondStep(pending, { code })]);
      expect(twice.map((r) => r.status).sort()).toEqual([200, 401]);
      t.clock.advance(TOTP_PERIOD_SECONDS);
      const [a, b] = [await pendingLogin(user), await pendingLogin(user)];
      const next = codeAt(t, secret);
      const both = await Promise.all([secondStep(a, { code: next }), secondStep(b, { code: next })]);
      expect(both.map((r) => r.status).sort()).toEqual([200, 401]);
      const recoveryCodes = (await post('/recovery_codes', {}, cookie).expect(200)).body.recovery_codes as string[];
      const [c, d] = [await pendingLogin(user), await pendingLogin(user)];
      const recovery = await Promise.all([
        secondStep(c, { recovery_code: recoveryCodes[0] }),
        secondStep(d, { recovery_code: recoveryCodes[0] }),
      ]);
      expect(recovery.map((r) => r.status).sort()).toEqual([200, 401]);
    });

    it('takes a plain form post (the page without JavaScript), and sets the cookie Secure with SESSION_COOKIE_SECURE', async () => {
      await t.close();
      t = await createTestApp({ SESSION_COOKIE_SECURE: 'true' });
      const user = await signup(t.http);
      const signedIn = await post('/login', { email: user.email, password: user.password }).expect(200);
      const cookie = /^(__Host-session_token=[^;]+)/.exec(setCookieLine(signedIn, '__Host-session_token')!)![1];
      startOfNextStep(t);
      const { secret } = (await post('/totp/setup', {}, cookie).expect(200)).body as { secret: string };
      await post('/totp/confirm', { code: codeAt(t, secret) }, cookie).expect(200);
      startOfNextStep(t);
      const res = await post('/login', { email: user.email, password: user.password }).expect(200);
      expect(setCookieLine(res, 'second_factor')).toMatch(/; Secure/);
      const done = await request(t.http)
        .post('/login/second_factor')
        .set('Cookie', `second_factor=${pendingCookie(res)}`)
        .type('form')
        .send(`code=${codeAt(t, secret).replace(/^(...)/, '$1 ')}`)
        .expect(200);
      expect(done.body.session.amr).toEqual(['pwd', 'otp', 'mfa']);
      expect(setCookieLine(done, '__Host-session_token')).toMatch(/; Secure/);
    });

    it('takes a recovery code once (any case, spaces or hyphens) and mails a notice', async () => {
      const { user, recoveryCodes } = await enrol();
      let pending = await pendingLogin(user);
      const typed = ` ${recoveryCodes[3].toUpperCase().replace(/-/g, ' ')} `;
      const res = await secondStep(pending, { recovery_code: typed }).expect(200);
      expect(res.body.session.amr).toEqual(['pwd', 'otp', 'mfa']);
      pending = await pendingLogin(user);
      await secondStep(pending, { recovery_code: recoveryCodes[3] }).expect(401);
      await secondStep(pending, { recovery_code: 'aaaa-bbbb-cccc' }).expect(401);
      await secondStep(pending, { recovery_code: recoveryCodes[4] }).expect(200);
      const notices = (await mailsInFolder(t)).filter(
        (m) => m.to === user.email && m.subject === 'A recovery code was used to sign in to your account',
      );
      expect(notices).toHaveLength(2);
      expect(notices[0].text).toContain('9 of your recovery codes are left');
      expect(notices[1].text).toContain('8 of your recovery codes are left');
      for (const code of recoveryCodes) expect(notices[1].text).not.toContain(code);
    });

    it('refuses a pending sign-in past its five minutes (401: sign in again)', async () => {
      const { user, secret } = await enrol();
      const pending = await pendingLogin(user);
      t.clock.advance(301);
      const res = await secondStep(pending, { code: codeAt(t, secret) }).expect(401);
      expect(res.body.message).toBe(SIGN_IN_AGAIN);
      // Without any pending sign-in at all: the same answer.
      expect((await post('/login/second_factor', { code: codeAt(t, secret) }).expect(401)).body.message).toBe(
        SIGN_IN_AGAIN,
      );
    });

    it('voids a pending sign-in when the password changes or every session is ended meanwhile', async () => {
      const { user, cookie, secret } = await enrol();
      let pending = await pendingLogin(user);
      const changed = await post(
        '/change_password',
        { current_password: user.password, new_password: PASSWORD_CHANGED },
        cookie,
      ).expect(200);
      expect((await secondStep(pending, { code: codeAt(t, secret) }).expect(401)).body.message).toBe(SIGN_IN_AGAIN);
      user.password = PASSWORD_CHANGED;
      const session = /^(session_token=[^;]+)/.exec(sessionSetCookie(changed.headers['set-cookie']))![1];

      pending = await pendingLogin(user);
      await request(t.http).delete('/active_sessions').set('Cookie', session).expect(200);
      expect((await secondStep(pending, { code: codeAt(t, secret) }).expect(401)).body.message).toBe(SIGN_IN_AGAIN);
      // A sign-in started after the change works.
      pending = await pendingLogin(user);
      await secondStep(pending, { code: codeAt(t, secret) }).expect(200);
    });

    it('a password reset signs no one in and leaves the app on: the next sign-in still asks for a code', async () => {
      const { user, secret } = await enrol();
      const pending = await pendingLogin(user);
      await post('/forgot_password', { email: user.email }).expect(202);
      const token = await mailedToken(t, user.email, '/reset_password_page');
      const reset = await post('/reset_password', { token, new_password: PASSWORD_CHANGED }).expect(200);
      expect(sessionSetCookie(reset.headers['set-cookie'])).toBe('');
      // The reset is a credential change: the pending sign-in of the old password is void.
      expect((await secondStep(pending, { code: codeAt(t, secret) }).expect(401)).body.message).toBe(SIGN_IN_AGAIN);
      const next = await pendingLogin({ ...user, password: PASSWORD_CHANGED });
      await secondStep(next, { code: codeAt(t, secret) }).expect(200);
    });

    it('turning the app off needs a recent password; then a login is one step again', async () => {
      const { user, cookie } = await enrol();
      t.clock.advance(t.config.reauthMaxAge + 1);
      const refused = await request(t.http).delete('/totp').set('Cookie', cookie).expect(403);
      expect(refused.body.reason).toBe('reauthentication_required');
      await pendingLogin(user);
      await post('/reauthenticate', { password: user.password }, cookie).expect(200);
      const res = await request(t.http).delete('/totp').set('Cookie', cookie).expect(200);
      expect(res.body).toEqual({ other_sessions: 0 });
      expect(await t.dataSource.getRepository(RecoveryCode).count()).toBe(0);
      await request(t.http).delete('/totp').set('Cookie', cookie).expect(404);
      await post('/recovery_codes', {}, cookie).expect(404);
      const one = await post('/login', { email: user.email, password: user.password }).expect(200);
      expect(one.body.session.amr).toEqual(['pwd']);
      const subjects = (await mailsInFolder(t)).filter((m) => m.to === user.email).map((m) => m.subject);
      expect(subjects).toContain('The authenticator app was removed from your account');
    });

    it('answers bad input with 400 naming the field, never 500', async () => {
      const { user, cookie, secret } = await enrol();
      const pending = await pendingLogin(user);
      const bad: object[] = [
        {},
        { code: '12345' },
        { code: 123456 },
        { code: '12345a' },
        { code: ['123456'] },
        { code: null },
        { code: codeAt(t, secret), recovery_code: 'aaaa-bbbb-cccc' },
        { recovery_code: 'x'.repeat(65) },
        { recovery_code: 42 },
        { code: codeAt(t, secret), pending_token: 'short' },
        { code: codeAt(t, secret), return_token: 'true' },
        { code: codeAt(t, secret), remember_me: true },
      ];
      for (const body of bad) {
        const res = await secondStep(pending, body);
        expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 400]);
        expect(Array.isArray(res.body.message) ? res.body.message.join(' ') : res.body.message).toMatch(
          /code|recovery_code|pending_token|return_token|remember_me/,
        );
      }
      // The type is checked first, so the message says what is wrong.
      for (const field of ['code', 'recovery_code', 'pending_token'])
        for (const value of [['123456'], { a: 'b' }]) {
          const res = await secondStep(pending, { [field]: value });
          expect(res.body.message).toEqual([`${field} must be a string`]);
        }
      for (const body of [{}, { code: 'abcdef' }, { code: 1 }, { code: '1234567' }]) {
        const res = await post('/totp/confirm', body, cookie);
        expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 400]);
      }
      // A form post (the no-JavaScript page) is taken; it cannot ask for the token.
      const form = await request(t.http)
        .post('/login/second_factor')
        .set('Cookie', `second_factor=${pending}`)
        .type('form')
        .send('code=12&return_token=true');
      expect(form.status).toBe(400);
      // None of these spent a try: the right code still works.
      await secondStep(pending, { code: codeAt(t, secret) }).expect(200);
    });
  });

  it('writes no secret, code, recovery code or pending token to the log', async () => {
    t = await createTestApp({}, { captureLogs: true });
    const { user, secret, recoveryCodes } = await enrol();
    const res = await post('/login', { email: user.email, password: user.password, return_token: true }).expect(200);
    const pending = res.body.pending_token as string;
    const wrong = wrongCode(codeAt(t, secret));
    await secondStep(pending, { code: wrong }).expect(401);
    const right = codeAt(t, secret);
    await secondStep(pending, { code: right }).expect(200);
    const again = await pendingLogin(user);
    await secondStep(again, { recovery_code: recoveryCodes[0] }).expect(200);
    const log = t.logs.join('\n');
    expect(log).toContain('second_factor_required');
    expect(log).toContain('second_factor_failed');
    expect(log).toContain('recovery_code_used');
    expect(log).toContain('totp_enabled');
    for (const text of [secret, pending, again, ...recoveryCodes, recoveryCodes[0].replace(/-/g, '')])
      expect(log).not.toContain(text);
    // Six digits can occur inside a timestamp: a code is looked for as a number of its own.
    for (const code of [right, wrong]) expect(log).not.toMatch(new RegExp(`(?<![0-9])${code}(?![0-9])`));
  });
});
