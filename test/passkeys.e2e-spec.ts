import request from 'supertest';
import { LoginAttempt } from '../src/auth/login-attempt.entity';
import { CleanupService } from '../src/cleanup/cleanup.service';
import { Passkey } from '../src/factors/passkey.entity';
import { WebauthnChallenge } from '../src/factors/webauthn-challenge.entity';
import { PASSKEY_REFUSED } from '../src/factors/passkeys.service';
import { UsersService } from '../src/users/users.service';
import { mailsInFolder } from './utils/mail-folder';
import { SoftAuthenticator } from './utils/soft-authenticator';
import {
  createTestApp,
  login,
  sessionSetCookie,
  signup,
  type LoggedIn,
  type TestApp,
  type TestUser,
} from './utils/test-app';

const PUBLIC_URL = 'https://id.example.test';
const REFUSED = { statusCode: 401, error: 'Unauthorized', message: PASSKEY_REFUSED };

type Json = Record<string, unknown>;

/**
 * Passkeys end to end, with a software authenticator that answers as a browser's
 * PublicKeyCredential.toJSON() does: adding one (recent proof needed), listing, renaming and
 * removing, signing in and re-authenticating with one, and every way a response is refused.
 */
describe('Passkeys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(
      { PUBLIC_URL, ALLOWED_ORIGINS: 'https://app.id.example.test,https://elsewhere.example.net' },
      { captureLogs: true },
    );
  });
  afterAll(() => t.close());

  const passkeyRows = () => t.dataSource.getRepository(Passkey);

  async function account(
    userAgent = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36',
  ) {
    const user = await signup(t.http);
    const session = await login(t.http, user, userAgent);
    return { user, session, authenticator: new SoftAuthenticator(PUBLIC_URL) };
  }

  async function registrationOptions(session: LoggedIn): Promise<Json> {
    const res = await request(t.http).post('/passkeys/registration_options').set('Cookie', session.cookie).expect(200);
    return res.body as Json;
  }

  /** Adds a passkey through the API; returns its row id. */
  async function addPasskey(session: LoggedIn, authenticator: SoftAuthenticator, bend: Json = {}): Promise<number> {
    const options = await registrationOptions(session);
    const res = await request(t.http)
      .post('/passkeys')
      .set('Cookie', session.cookie)
      .send({ response: authenticator.create(options, bend) })
      .expect(201);
    return (res.body as { passkey: { id: number } }).passkey.id;
  }

  async function signInOptions(): Promise<Json> {
    return (await request(t.http).post('/login/passkey_options').expect(200)).body as Json;
  }

  function signInWith(response: Json, extra: Json = {}, userAgent = 'Passkey browser') {
    return request(t.http)
      .post('/login/passkey')
      .set('User-Agent', userAgent)
      .send({ response, ...extra });
  }

  describe('adding one', () => {
    it('gives creation options for a discoverable credential, excluding the passkeys the account has', async () => {
      const { user, session, authenticator } = await account();
      const first = await registrationOptions(session);
      expect(first).toMatchObject({
        rp: { name: 'Session server', id: 'id.example.test' },
        user: { name: user.email, displayName: user.name },
        timeout: 120000,
        attestation: 'none',
        excludeCredentials: [],
        authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'preferred' },
      });
      expect(first.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
      // The user handle names no one: 32 bytes, not the id or the address.
      expect(Buffer.from((first.user as { id: string }).id, 'base64url')).toHaveLength(32);
      await addPasskey(session, authenticator);
      const second = await registrationOptions(session);
      expect(second.excludeCredentials).toEqual([
        {
          id: authenticator.credentials[0].id.toString('base64url'),
          type: 'public-key',
          transports: ['internal', 'hybrid'],
        },
      ]);
      expect((second.user as { id: string }).id).toBe((first.user as { id: string }).id);
    });

    it('stores it, lists it with its device, mails a notice and counts the other sessions', async () => {
      const { user, session, authenticator } = await account();
      await login(t.http, user, 'Another device');
      const options = await registrationOptions(session);
      const res = await request(t.http)
        .post('/passkeys')
        .set('Cookie', session.cookie)
        .send({ response: authenticator.create(options) })
        .expect(201);
      expect(res.body).toEqual({
        passkey: {
          id: expect.any(Number),
          name: 'Chrome on Linux',
          credential_id: authenticator.credentials[0].id.toString('base64url'),
          created_at: expect.any(String),
          last_used_at: null,
          device: { browser: 'Chrome', os: 'Linux', type: 'desktop' },
          backed_up: true,
          transports: ['internal', 'hybrid'],
        },
        other_sessions: 1,
      });
      const list = await request(t.http).get('/passkeys').set('Cookie', session.cookie).expect(200);
      expect(list.body).toEqual({ passkeys: [res.body.passkey] });
      // Never the public key.
      expect(JSON.stringify(list.body)).not.toContain(authenticator.credentials[0].publicKeySpki.toString('base64url'));
      const mails = (await mailsInFolder(t)).filter((m) => m.to === user.email);
      expect(mails.map((m) => m.subject)).toContain('A passkey was added to your account');
      expect(mails.find((m) => m.subject === 'A passkey was added to your account')?.text).toContain(
        '"Chrome on Linux"',
      );
    });

    it('takes a name, trimmed, and refuses an empty or over-long one', async () => {
      const { session, authenticator } = await account();
      const options = await registrationOptions(session);
      const response = authenticator.create(options);
      for (const name of ['', '   ', 'x'.repeat(101)]) {
        const bad = await request(t.http).post('/passkeys').set('Cookie', session.cookie).send({ response, name });
        expect(bad.status).toBe(400);
        expect(bad.body.message).toEqual(['name must be between 1 and 100 characters']);
      }
      const res = await request(t.http)
        .post('/passkeys')
        .set('Cookie', session.cookie)
        .send({ response, name: '  Work laptop ' })
        .expect(201);
      expect(res.body.passkey.name).toBe('Work laptop');
    });

    it('needs a recent proof: 403 reauthentication_required past REAUTH_MAX_AGE, for the options and the response alike', async () => {
      const { user, session, authenticator } = await account();
      const options = await registrationOptions(session);
      t.clock.advance(601);
      const late = await request(t.http).post('/passkeys/registration_options').set('Cookie', session.cookie);
      expect(late.status).toBe(403);
      expect(late.body.reason).toBe('reauthentication_required');
      const response = authenticator.create(options);
      const post = await request(t.http).post('/passkeys').set('Cookie', session.cookie).send({ response });
      expect(post.status).toBe(403);
      expect(post.body.reason).toBe('reauthentication_required');
      expect(await passkeyRows().countBy({ userId: user.id })).toBe(0);
      await request(t.http)
        .post('/reauthenticate')
        .set('Cookie', session.cookie)
        .send({ password: user.password })
        .expect(200);
      await addPasskey(session, authenticator);
    });

    it("refuses a credential made for another origin or RP ID, or against another session's challenge", async () => {
      const { session, authenticator } = await account();
      const other = await account();
      for (const bend of [
        { origin: 'https://evil.example.net' },
        { origin: 'https://elsewhere.example.net' },
        { rpId: 'evil.example.net' },
      ]) {
        const options = await registrationOptions(session);
        const res = await request(t.http)
          .post('/passkeys')
          .set('Cookie', session.cookie)
          .send({ response: authenticator.create(options, bend) });
        expect(res.status).toBe(401);
        expect(res.body).toEqual(REFUSED);
      }
      const theirs = await registrationOptions(other.session);
      const res = await request(t.http)
        .post('/passkeys')
        .set('Cookie', session.cookie)
        .send({ response: authenticator.create(theirs) });
      expect(res.status).toBe(401);
      // A subdomain listed in ALLOWED_ORIGINS is one of ours.
      await addPasskey(session, authenticator, { origin: 'https://app.id.example.test' });
    });

    it('answers 409 for a credential registered already', async () => {
      const { session, authenticator } = await account();
      const options = await registrationOptions(session);
      const response = authenticator.create(options);
      await request(t.http).post('/passkeys').set('Cookie', session.cookie).send({ response }).expect(201);
      const again = await registrationOptions(session);
      // The same credential answered to a fresh challenge (an authenticator ignoring excludeCredentials).
      const clientData = JSON.parse(
        Buffer.from((response.response as Json).clientDataJSON as string, 'base64url').toString(),
      ) as Json;
      const replayed = {
        ...response,
        response: {
          ...(response.response as Json),
          clientDataJSON: Buffer.from(JSON.stringify({ ...clientData, challenge: again.challenge })).toString(
            'base64url',
          ),
        },
      };
      const res = await request(t.http).post('/passkeys').set('Cookie', session.cookie).send({ response: replayed });
      expect(res.status).toBe(409);
      expect(res.body.message).toBe('This passkey is already registered');
    });
  });

  describe('managing them', () => {
    it("renames and removes one's own; another user's passkey is a 404 either way, and stays", async () => {
      const { user, session, authenticator } = await account();
      const id = await addPasskey(session, authenticator);
      const stranger = await account();
      const renamed = await request(t.http)
        .patch(`/passkeys/${id}`)
        .set('Cookie', session.cookie)
        .send({ name: 'Phone' })
        .expect(200);
      expect(renamed.body.passkey).toMatchObject({ id, name: 'Phone' });
      for (const call of [
        request(t.http).patch(`/passkeys/${id}`).set('Cookie', stranger.session.cookie).send({ name: 'Mine now' }),
        request(t.http).delete(`/passkeys/${id}`).set('Cookie', stranger.session.cookie),
        request(t.http).delete('/passkeys/999999').set('Cookie', session.cookie),
      ]) {
        const res = await call;
        expect(res.status).toBe(404);
        expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Passkey not found' });
      }
      expect((await passkeyRows().findOneByOrFail({ id })).name).toBe('Phone');
      await login(t.http, user, 'Tablet');
      const removed = await request(t.http).delete(`/passkeys/${id}`).set('Cookie', session.cookie).expect(200);
      expect(removed.body).toEqual({ other_sessions: 1 });
      expect(await passkeyRows().countBy({ id })).toBe(0);
      const mails = (await mailsInFolder(t)).filter((m) => m.to === user.email).map((m) => m.subject);
      expect(mails).toContain('A passkey was removed from your account');
    });

    it('removing needs a recent proof (404 comes first), and a removed passkey no longer signs in', async () => {
      const { user, session, authenticator } = await account();
      const id = await addPasskey(session, authenticator);
      const options = await signInOptions();
      const assertion = authenticator.get(options);
      t.clock.advance(601);
      await request(t.http).delete('/passkeys/999999').set('Cookie', session.cookie).expect(404);
      const late = await request(t.http).delete(`/passkeys/${id}`).set('Cookie', session.cookie);
      expect(late.status).toBe(403);
      expect(late.body.reason).toBe('reauthentication_required');
      await request(t.http)
        .post('/reauthenticate')
        .set('Cookie', session.cookie)
        .send({ password: user.password })
        .expect(200);
      await request(t.http).delete(`/passkeys/${id}`).set('Cookie', session.cookie).expect(200);
      const res = await signInWith(assertion);
      expect(res.status).toBe(401);
      expect(res.body).toEqual(REFUSED);
      // The password still signs in: removing the last passkey never removes the last way in.
      await login(t.http, user);
    });
  });

  describe('signing in', () => {
    it('gives request options for discoverable credentials, user verification required', async () => {
      const options = await signInOptions();
      expect(options).toEqual({
        rpId: 'id.example.test',
        challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        timeout: 120000,
        userVerification: 'required',
      });
    });

    it('signs in like POST /login: user, session, cookies, amr [swk, mfa]; the session works', async () => {
      const { user, session, authenticator } = await account();
      const id = await addPasskey(session, authenticator);
      t.clock.advance(30);
      const before = t.clock.now().getTime();
      const res = await signInWith(authenticator.get(await signInOptions()), { remember_me: true }).expect(200);
      expect(Object.keys(res.body).sort()).toEqual(['session', 'user']);
      expect(res.body.user).toMatchObject({ id: user.id, email: user.email });
      expect(res.body.session).toMatchObject({
        amr: ['swk', 'mfa'],
        remember_me: true,
        current: true,
        user_agent: 'Passkey browser',
      });
      const cookies = [res.headers['set-cookie'] as string[] | string].flat();
      const cookie = sessionSetCookie(cookies);
      expect(cookie).toMatch(
        /^session_token=[A-Za-z0-9_-]{43}; Max-Age=\d+; Path=\/; Expires=.*; HttpOnly; SameSite=Lax$/,
      );
      expect(
        cookies.some((c) => /^device=[^;]+; Max-Age=31536000; Path=\/; Expires=.*; HttpOnly; SameSite=Lax$/.test(c)),
      ).toBe(true);
      const token = /^session_token=([^;]*)/.exec(cookie)![1];
      const status = await request(t.http).get('/session_status').set('Cookie', `session_token=${token}`).expect(200);
      expect(status.body.session.amr).toEqual(['swk', 'mfa']);
      expect(status.body.user.id).toBe(user.id);
      const row = await passkeyRows().findOneByOrFail({ id });
      const usedAt = row.lastUsedAt!.getTime();
      expect(usedAt).toBeGreaterThanOrEqual(before);
      expect(usedAt).toBeLessThanOrEqual(new Date(status.body.session.login_time as string).getTime());
      expect(row.counter).toBe(1);
      const attempt = await t.dataSource
        .getRepository(LoginAttempt)
        .findOneOrFail({ where: { userId: user.id }, order: { id: 'DESC' } });
      expect(attempt).toMatchObject({ reason: 'ok', success: true });
      // The list shows when it was last used.
      const list = await request(t.http).get('/passkeys').set('Cookie', session.cookie).expect(200);
      expect(list.body.passkeys[0].last_used_at).toBe(row.lastUsedAt!.toISOString());
    });

    it('a passkey bound to its device gives amr [hwk, mfa]; return_token puts the token in the body; a carried session ends', async () => {
      const { session } = await account();
      const authenticator = new SoftAuthenticator(PUBLIC_URL, { synced: false });
      await addPasskey(session, authenticator);
      const res = await request(t.http)
        .post('/login/passkey')
        .set('Cookie', session.cookie)
        .send({ response: authenticator.get(await signInOptions()), return_token: true })
        .expect(200);
      expect(res.body.session.amr).toEqual(['hwk', 'mfa']);
      expect(res.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const old = await request(t.http).get('/session_status').set('Cookie', session.cookie);
      expect(old.status).toBe(401);
      expect(old.body.reason).toBe('logged_out');
    });

    it('refuses a disabled account (403) as /login does', async () => {
      const { user, session, authenticator } = await account();
      await addPasskey(session, authenticator);
      await t.app.get(UsersService).changeCredentials(user.id, { disable: true });
      const res = await signInWith(authenticator.get(await signInOptions()));
      expect(res.status).toBe(403);
      expect(res.body.message).toBe('This account is disabled');
    });

    it('refuses an assertion without user verification', async () => {
      const { session, authenticator } = await account();
      await addPasskey(session, authenticator);
      const res = await signInWith(authenticator.get(await signInOptions(), { userVerified: false }));
      expect(res.status).toBe(401);
      expect(res.body).toEqual(REFUSED);
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('refuses another origin and another RP ID', async () => {
      const { session, authenticator } = await account();
      await addPasskey(session, authenticator);
      for (const bend of [
        { origin: 'https://id.example.test.evil.net' },
        { origin: 'http://id.example.test' },
        { rpId: 'example.test' },
      ]) {
        const res = await signInWith(authenticator.get(await signInOptions(), bend));
        expect(res.status).toBe(401);
      }
    });

    it('refuses a replayed assertion (its challenge is spent), and lets exactly one of two racing uses through', async () => {
      const { session, authenticator } = await account();
      await addPasskey(session, authenticator);
      const assertion = authenticator.get(await signInOptions());
      await signInWith(assertion).expect(200);
      const replay = await signInWith(assertion);
      expect(replay.status).toBe(401);
      expect(replay.body).toEqual(REFUSED);

      const racing = authenticator.get(await signInOptions());
      const results = await Promise.all([signInWith(racing), signInWith(racing), signInWith(racing)]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401]);
    });

    it('refuses a signature counter that does not go up, and logs it', async () => {
      const { user, session, authenticator } = await account();
      const id = await addPasskey(session, authenticator);
      await signInWith(authenticator.get(await signInOptions(), { counter: 5 })).expect(200);
      for (const counter of [5, 3]) {
        const res = await signInWith(authenticator.get(await signInOptions(), { counter }));
        expect(res.status).toBe(401);
        expect(res.body).toEqual(REFUSED);
      }
      expect((await passkeyRows().findOneByOrFail({ id })).counter).toBe(5);
      const lines = t.logs
        .map((l) => JSON.parse(l) as Json)
        .filter((l) => l.event === 'passkey_counter_regression' && l.user_id === user.id);
      expect(lines.map((l) => [l.stored, l.received, l.passkey_id])).toEqual([
        [5, 5, id],
        [5, 3, id],
      ]);
      await signInWith(authenticator.get(await signInOptions(), { counter: 6 })).expect(200);
    });

    it('accepts an authenticator without a counter (always 0)', async () => {
      const { session, authenticator } = await account();
      await addPasskey(session, authenticator);
      for (let i = 0; i < 2; i++)
        await signInWith(authenticator.get(await signInOptions(), { counter: 0 })).expect(200);
    });

    it('refuses an expired challenge (2 minutes)', async () => {
      const { session, authenticator } = await account();
      await addPasskey(session, authenticator);
      const options = await signInOptions();
      t.clock.advance(119);
      await signInWith(authenticator.get(options)).expect(200);
      const late = await signInOptions();
      t.clock.advance(121);
      const res = await signInWith(authenticator.get(late));
      expect(res.status).toBe(401);
    });

    it('refuses a challenge issued for another purpose: registration or re-authentication', async () => {
      const { session, authenticator } = await account();
      await addPasskey(session, authenticator);
      const registration = await registrationOptions(session);
      const reauth = (
        await request(t.http).post('/reauthenticate/passkey_options').set('Cookie', session.cookie).expect(200)
      ).body as Json;
      for (const challenge of [registration.challenge, reauth.challenge] as string[]) {
        const res = await signInWith(authenticator.get(await signInOptions(), { challenge }));
        expect(res.status).toBe(401);
      }
      // Nor a made-up one, nor the type of a registration.
      expect((await signInWith(authenticator.get(await signInOptions(), { challenge: 'A'.repeat(43) }))).status).toBe(
        401,
      );
      expect((await signInWith(authenticator.get(await signInOptions(), { type: 'webauthn.create' }))).status).toBe(
        401,
      );
    });

    it("refuses a user handle that is not the credential's, and an unknown credential", async () => {
      const { session, authenticator } = await account();
      await addPasskey(session, authenticator);
      const assertion = authenticator.get(await signInOptions());
      const wrongHandle = { ...assertion, response: { ...(assertion.response as Json), userHandle: 'AAAA' } };
      expect((await signInWith(wrongHandle)).status).toBe(401);
      const stranger = new SoftAuthenticator(PUBLIC_URL);
      stranger.create(await registrationOptions(session));
      expect((await signInWith(stranger.get(await signInOptions()))).status).toBe(401);
    });
  });

  describe('re-authenticating', () => {
    it("moves auth_time with one of the caller's passkeys; the options list them", async () => {
      const { session, authenticator } = await account();
      await addPasskey(session, authenticator);
      t.clock.advance(601);
      await request(t.http).delete('/active_sessions').set('Cookie', session.cookie).expect(403);
      const options = (
        await request(t.http).post('/reauthenticate/passkey_options').set('Cookie', session.cookie).expect(200)
      ).body as Json;
      expect(options.allowCredentials).toEqual([
        {
          id: authenticator.credentials[0].id.toString('base64url'),
          type: 'public-key',
          transports: ['internal', 'hybrid'],
        },
      ]);
      expect(options.userVerification).toBe('required');
      const before = t.clock.now().getTime();
      const res = await request(t.http)
        .post('/reauthenticate/passkey')
        .set('Cookie', session.cookie)
        .send({ response: authenticator.get(options) })
        .expect(200);
      expect(Object.keys(res.body)).toEqual(['auth_time']);
      expect(new Date(res.body.auth_time).getTime()).toBeGreaterThanOrEqual(before);
      const status = await request(t.http).get('/session_status').set('Cookie', session.cookie).expect(200);
      expect(status.body.auth_time).toBe(res.body.auth_time);
      // amr stays how the session was made.
      expect(status.body.session.amr).toEqual(['pwd']);
      await request(t.http).delete('/active_sessions').set('Cookie', session.cookie).expect(200);
    });

    it("refuses another user's credential, another session's challenge, and a sign-in challenge; auth_time stays", async () => {
      const me = await account();
      await addPasskey(me.session, me.authenticator);
      const other = await account();
      await addPasskey(other.session, other.authenticator);
      const myOtherSession = await login(t.http, me.user, 'Second browser');
      t.clock.advance(601);
      const options = (
        await request(t.http).post('/reauthenticate/passkey_options').set('Cookie', me.session.cookie).expect(200)
      ).body as Json;
      const attempts = [
        // Their passkey, answering my challenge.
        other.authenticator.get({ ...options, allowCredentials: [] }),
      ];
      for (const response of attempts) {
        const res = await request(t.http)
          .post('/reauthenticate/passkey')
          .set('Cookie', me.session.cookie)
          .send({ response });
        expect(res.status).toBe(401);
        expect(res.body).toEqual(REFUSED);
      }
      // My passkey, but this session's challenge used from my other session.
      const fresh = (
        await request(t.http).post('/reauthenticate/passkey_options').set('Cookie', me.session.cookie).expect(200)
      ).body as Json;
      const elsewhere = await request(t.http)
        .post('/reauthenticate/passkey')
        .set('Cookie', myOtherSession.cookie)
        .send({ response: me.authenticator.get(fresh) });
      expect(elsewhere.status).toBe(401);
      // A sign-in challenge.
      const signIn = await request(t.http)
        .post('/reauthenticate/passkey')
        .set('Cookie', me.session.cookie)
        .send({ response: me.authenticator.get(await signInOptions()) });
      expect(signIn.status).toBe(401);
      const status = await request(t.http).get('/session_status').set('Cookie', me.session.cookie).expect(200);
      expect(status.body.auth_time).toBe(me.session.body.session.auth_time);
      expect(t.logs.some((l) => l.includes('"reauth_failed"') && l.includes(`"user_id":${me.user.id}`))).toBe(true);
    });
  });

  describe('bad input', () => {
    it('answers 400 naming the field, never 500, for garbage shapes and huge fields', async () => {
      const { session, authenticator } = await account();
      await addPasskey(session, authenticator);
      const good = authenticator.get(await signInOptions());
      const goodResponse = good.response as Json;
      const bodies: unknown[] = [
        {},
        { response: null },
        { response: 'text' },
        { response: [] },
        { response: { ...good, response: 'x' } },
        { response: { ...good, id: 42 } },
        { response: { ...good, id: 'not base64url!' } },
        { response: { ...good, id: 'A'.repeat(5000) } },
        { response: { ...good, type: 'password' } },
        { response: { ...good, response: { ...goodResponse, signature: 'A'.repeat(20000) } } },
        { response: { ...good, response: { ...goodResponse, clientDataJSON: ['a'] } } },
        { response: { ...good, response: { ...goodResponse, extra: 1 } } },
        { response: { ...good, clientExtensionResults: 'x' } },
        { response: good, remember_me: 'yes' },
        { response: good, unknown: true },
      ];
      // The type is checked before length or format, so the message says what is wrong.
      const typed = await request(t.http)
        .post('/login/passkey')
        .send({ response: { ...good, id: 42, response: { ...goodResponse, signature: ['x'] } } });
      expect(typed.body.message).toEqual(
        expect.arrayContaining(['response.id must be a string', 'response.response.signature must be a string']),
      );
      for (const body of bodies) {
        const res = await request(t.http)
          .post('/login/passkey')
          .send(body as object);
        expect([res.status, body]).toEqual([400, body]);
        expect(res.body.statusCode).toBe(400);
      }
      const registration = await registrationOptions(session);
      const created = authenticator.create(registration);
      for (const response of [
        { ...created, response: { ...(created.response as Json), attestationObject: 'A'.repeat(40000) } },
        { ...created, response: { ...(created.response as Json), transports: ['usb', 'NOT A TRANSPORT'] } },
        { ...created, response: { ...(created.response as Json), transports: 'usb' } },
      ]) {
        const res = await request(t.http).post('/passkeys').set('Cookie', session.cookie).send({ response });
        expect(res.status).toBe(400);
      }
      await request(t.http).patch('/passkeys/abc').set('Cookie', session.cookie).send({ name: 'x' }).expect(400);
    });

    it('answers 401 (never 500) for well-formed fields that are not WebAuthn: bad base64 content, bad JSON, bad CBOR', async () => {
      const { session, authenticator } = await account();
      await addPasskey(session, authenticator);
      const options = await signInOptions();
      const good = authenticator.get(options);
      const goodResponse = good.response as Json;
      const clientData = JSON.parse(Buffer.from(goodResponse.clientDataJSON as string, 'base64url').toString()) as Json;
      const variants: Json[] = [
        { ...goodResponse, clientDataJSON: Buffer.from('not json').toString('base64url') },
        {
          ...goodResponse,
          clientDataJSON: Buffer.from(JSON.stringify({ ...clientData, challenge: 42 })).toString('base64url'),
        },
        { ...goodResponse, authenticatorData: 'AAAA' },
        { ...goodResponse, signature: 'AAAA' },
      ];
      for (const response of variants) {
        const res = await signInWith({ ...good, response });
        expect(res.status).toBe(401);
      }
      const registration = await registrationOptions(session);
      const created = authenticator.create(registration);
      const res = await request(t.http)
        .post('/passkeys')
        .set('Cookie', session.cookie)
        .send({ response: { ...created, response: { ...(created.response as Json), attestationObject: 'oWNmbXQ' } } });
      expect(res.status).toBe(401);
    });
  });

  it('the cleanup job deletes challenges past their 2 minutes, and only those', async () => {
    await signInOptions();
    t.clock.advance(121);
    const fresh = await signInOptions();
    const report = await t.app.get(CleanupService).run();
    expect(report.webauthn_challenges_deleted).toBeGreaterThan(0);
    const left = await t.dataSource.getRepository(WebauthnChallenge).find();
    expect(left.every((c) => c.expiresAt > t.clock.now())).toBe(true);
    expect(left.length).toBeGreaterThan(0);
    expect(fresh.challenge).toBeDefined();
  });

  it('keeps each challenge as its hash, spent once', async () => {
    const options = await signInOptions();
    const rows = await t.dataSource.getRepository(WebauthnChallenge).find();
    expect(JSON.stringify(rows)).not.toContain(options.challenge as string);
  });
});

describe('Passkeys with REQUIRE_VERIFIED_EMAIL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ PUBLIC_URL, REQUIRE_VERIFIED_EMAIL: 'true' });
  });
  afterAll(() => t.close());

  it('refuses an unconfirmed address (403 email_not_verified) as /login does', async () => {
    const user: TestUser = await signup(t.http);
    await t.dataSource.query('UPDATE users SET email_verified = true WHERE id = $1'.replace('$1', String(user.id)));
    const session = await login(t.http, user);
    const authenticator = new SoftAuthenticator(PUBLIC_URL);
    const options = (
      await request(t.http).post('/passkeys/registration_options').set('Cookie', session.cookie).expect(200)
    ).body as Json;
    await request(t.http)
      .post('/passkeys')
      .set('Cookie', session.cookie)
      .send({ response: authenticator.create(options) })
      .expect(201);
    await t.dataSource.query('UPDATE users SET email_verified = false WHERE id = $1'.replace('$1', String(user.id)));
    const signIn = (await request(t.http).post('/login/passkey_options').expect(200)).body as Json;
    const res = await request(t.http)
      .post('/login/passkey')
      .send({ response: authenticator.get(signIn) });
    expect(res.status).toBe(403);
    expect(res.body.reason).toBe('email_not_verified');
  });
});
