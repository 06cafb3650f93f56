import { STATUS_CODES } from 'node:http';
import request, { type Response } from 'supertest';
import { AUTH_FAILURE_REASONS } from '../src/auth/auth-failure';
import { TOTP_PERIOD_SECONDS, totpOf } from '../src/factors/totp-secret';
import { mailedToken } from './utils/mail-folder';
import { SoftAuthenticator } from './utils/soft-authenticator';
import { checkAgainstSchema, type OpenApiDocument, type Schema } from './utils/openapi-check';
import { API_ROUTES, openApiPath, PAGE_ROUTES, signedOutStatus } from './utils/routes';
import { createTestApp, login, signup, type TestApp } from './utils/test-app';

/** Every JSON route the server has (the catalogue's API routes), as OpenAPI paths. */
const API_OPERATIONS = API_ROUTES.map((r) => [r.method, openApiPath(r), r] as const);

describe('OpenAPI document', () => {
  let t: TestApp;
  let doc: OpenApiDocument;
  beforeAll(async () => {
    t = await createTestApp({ ADMIN_EMAILS: 'root@example.com' });
    doc = (await request(t.http).get('/docs-json').expect(200)).body;
  });
  afterAll(() => t.close());

  it('is served as OpenAPI 3 JSON, with the page at /docs from local assets', async () => {
    expect((doc as unknown as { openapi: string }).openapi).toMatch(/^3\./);
    const page = await request(t.http).get('/docs').redirects(1).expect(200);
    expect(page.text).toContain('swagger-ui');
    const links = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(links.filter((l) => /^(https?:)?\/\//.test(l))).toEqual([]);
    const css = links.find((l) => l.endsWith('.css'));
    expect(css).toBeDefined();
    await request(t.http)
      .get(`/${css!.replace(/^\.\//, '')}`)
      .expect(200);
  });

  it('describes the cookie and bearer security schemes', () => {
    expect(doc.components.securitySchemes.session_cookie).toMatchObject({
      type: 'apiKey',
      in: 'cookie',
      name: 'session_token',
    });
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    // Enough for Swagger UI's "Authorize": where the token comes from, and where it goes.
    const description = String(doc.components.securitySchemes.bearer.description);
    expect(description).toContain('"return_token": true');
    expect(description).toContain('POST /login');
    expect(description).toContain('Authorization: Bearer <token>');
  });

  it('documents return_token and the token it returns, and a real response matches the served schemas', async () => {
    const schemas = doc.components.schemas as Record<string, Schema & { properties: Record<string, Schema> }>;
    const login = doc.paths['/login'].post as unknown as {
      requestBody: { content: Record<string, { schema: Schema; examples?: Record<string, { value: unknown }> }> };
      responses: Record<string, { content: Record<string, { schema: Schema }> }>;
    };
    expect(login.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/LoginDto' });
    expect(schemas.LoginDto.properties.return_token).toMatchObject({ type: 'boolean' });
    expect(schemas.LoginDto.required).not.toContain('return_token');
    // The token is optional (only with return_token) and documented as such.
    expect(schemas.LoginResponseDto.properties.token).toMatchObject({
      type: 'string',
      description: expect.stringContaining('"return_token": true'),
    });
    expect(schemas.LoginResponseDto.required).not.toContain('token');
    expect(schemas.ChangePasswordResponseDto.properties.token).toMatchObject({ type: 'string' });
    expect(schemas.ChangePasswordResponseDto.required).toEqual(['revoked']);
    // The request examples are valid bodies, one of them asking for the token.
    const examples = Object.values(login.requestBody.content['application/json'].examples ?? {});
    expect(examples.map((e) => (e.value as { return_token?: boolean }).return_token)).toContain(true);
    for (const example of examples) expect(checkAgainstSchema(doc, schemas.LoginDto, example.value)).toEqual([]);

    const ada = await signup(t.http);
    const res = await request(t.http)
      .post('/login')
      .send({ email: ada.email, password: ada.password, return_token: true })
      .expect(200);
    expect(res.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const loginSchema = login.responses['200'].content['application/json'].schema;
    expect(checkAgainstSchema(doc, loginSchema, res.body, 'POST /login 200')).toEqual([]);
    // A token the schema did not declare would be caught: the checker refuses unexpected properties.
    expect(checkAgainstSchema(doc, loginSchema, { ...res.body, extra: 1 })).not.toEqual([]);

    const changed = await request(t.http)
      .post('/change_password')
      .set('Authorization', `Bearer ${res.body.token}`)
      .send({ current_password: ada.password, new_password: 'another good password' })
      .expect(200);
    expect(changed.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const changeSchema = doc.paths['/change_password'].post.responses['200'].content!['application/json'].schema;
    expect(checkAgainstSchema(doc, changeSchema, changed.body, 'POST /change_password 200')).toEqual([]);
  });

  it("gives the server's own list of 401 reasons, and every 401 shows a 401 body with one of them", () => {
    const schemas = doc.components.schemas as Record<string, Schema & { properties: Record<string, Schema> }>;
    const reason = schemas.UnauthorizedDto.properties.reason as Schema & { description: string };
    expect(reason.enum).toEqual([...AUTH_FAILURE_REASONS]);
    expect(reason.enum).toContain('revoked_by_admin');
    // Its description explains each one.
    for (const r of AUTH_FAILURE_REASONS) expect(reason.description).toContain(`\`${r}\`: `);
    // The model's own example is a 401 too (Swagger UI shows it in the Schemas section).
    expect(schemas.UnauthorizedDto.properties.statusCode).toMatchObject({ example: 401 });
    expect(schemas.UnauthorizedDto.properties.error).toMatchObject({ example: 'Unauthorized' });

    const unauthorized = { $ref: '#/components/schemas/UnauthorizedDto' };
    let routes = 0;
    for (const [path, operations] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(operations)) {
        // Routes that need a session (POST /login's 401 is its wrong password: plain error shape).
        const json = op.responses['401']?.content?.['application/json'];
        if (!json || !op.security) continue;
        routes++;
        const where = `${method} ${path}`;
        // The session's 401 (alone, or beside the route's own plain 401).
        const schema = json.schema;
        expect({ where, session: schema.$ref ? schema : schema.oneOf?.find((s) => s.$ref) }).toEqual({
          where,
          session: unauthorized,
        });
        const example = json.example as { statusCode: number; error: string; reason?: string };
        expect({ where, statusCode: example.statusCode, error: example.error }).toEqual({
          where,
          statusCode: 401,
          error: 'Unauthorized',
        });
        expect(AUTH_FAILURE_REASONS).toContain(example.reason);
      }
    expect(routes).toBeGreaterThan(10);
  });

  it('lists every reason wherever a description lists the 401 reasons (none left out, revoked_by_admin included)', () => {
    const texts: string[] = [];
    const walk = (node: unknown, key = ''): void => {
      if (typeof node === 'string' && (key === 'description' || key === 'summary')) texts.push(node);
      else if (node && typeof node === 'object')
        for (const [k, v] of Object.entries(node as Record<string, unknown>)) walk(v, k);
    };
    walk(doc);
    const named = (text: string) => AUTH_FAILURE_REASONS.filter((r) => text.includes(`\`${r}\``));
    // A text naming more than two reasons is a list of them: it must be the whole list.
    const lists = texts.filter((text) => named(text).length > 2);
    expect(lists.length).toBeGreaterThan(0);
    for (const text of lists) expect({ text, named: named(text) }).toEqual({ text, named: [...AUTH_FAILURE_REASONS] });
    // The route whose reason is revoked_by_admin says so.
    expect(doc.paths['/admin/users/{id}/sessions'].delete as unknown as { summary: string }).toMatchObject({
      summary: expect.stringContaining('`revoked_by_admin`'),
    });
  });

  it.each(API_OPERATIONS)('documents %s %s with its success and error responses', (method, path, route) => {
    const op = doc.paths[path]?.[method];
    expect(op).toBeDefined();
    const success = Object.keys(op.responses).filter((s) => s.startsWith('2'));
    expect(success).toEqual([String(route.success)]);
    if (success[0] !== '204') expect(op.responses[success[0]].content?.['application/json']?.schema).toBeDefined();
    if (route.body) expect(op.requestBody).toBeDefined();
    for (const [status, response] of Object.entries(op.responses)) {
      if (Number(status) >= 400) expect(response.content?.['application/json']?.schema).toBeDefined();
    }
    // A route that answers 401 without a session documents both ways of carrying one.
    if (signedOutStatus(route) === 401) {
      expect(op.security).toEqual(expect.arrayContaining([{ session_cookie: [] }, { bearer: [] }]));
      expect(op.responses['401']).toBeDefined();
    }
  });

  it('says what the server actually sends, on every route', async () => {
    const problems: string[] = [];
    const checked = new Set<string>();
    const check = (method: string, path: string, res: Response) => {
      checked.add(`${method} ${path}`);
      const documented = doc.paths[path]?.[method]?.responses[String(res.status)];
      if (!documented) return problems.push(`${method} ${path}: status ${res.status} is not documented`);
      const schema = documented.content?.['application/json']?.schema;
      if (schema) problems.push(...checkAgainstSchema(doc, schema, res.body, `${method} ${path} ${res.status}`));
      else if (res.status !== 204) problems.push(`${method} ${path}: ${res.status} has no documented body`);
    };

    const ada = await signup(t.http, { name: 'Ada' });
    const grace = await signup(t.http, { name: 'Grace' });
    const other = await signup(t.http);
    check(
      'post',
      '/signup',
      await request(t.http)
        .post('/signup')
        .send({ name: 'X', phone: '5551234', email: ada.email, password: 'password123' }),
    );
    check('post', '/signup', await request(t.http).post('/signup').send({}));
    check(
      'post',
      '/signup',
      await request(t.http)
        .post('/signup')
        .send({ name: 'New', phone: '5551234', email: 'new@example.com', password: 'password123' }),
    );
    check(
      'post',
      '/login',
      await request(t.http).post('/login').send({ email: ada.email, password: 'wrong password' }),
    );
    check('post', '/login', await request(t.http).post('/login').send({ email: ada.email, password: ada.password }));
    const { cookie } = await login(t.http, ada);
    const second = await login(t.http, ada, 'second');
    const graceLogin = await login(t.http, grace);
    await login(t.http, other);
    const as = (r: request.Test) => r.set('Cookie', cookie);

    check('get', '/session_status', await as(request(t.http).get('/session_status')));
    check('get', '/session_status', await request(t.http).get('/session_status'));
    check('get', '/userpage', await as(request(t.http).get('/userpage')));
    check('get', '/userpage', await request(t.http).get('/userpage'));
    check('get', '/active_sessions', await as(request(t.http).get('/active_sessions')));
    check('post', '/chats', await as(request(t.http).post('/chats')).send({ receiver_id: grace.id, message: 'hi' }));
    check('post', '/chats', await as(request(t.http).post('/chats')).send({ receiver_id: 999999, message: 'hi' }));
    check('post', '/chats', await as(request(t.http).post('/chats')).send({ receiver_id: 'x' }));
    check('get', '/chats', await as(request(t.http).get('/chats')));
    check('get', '/chats/{user_id}', await as(request(t.http).get(`/chats/${grace.id}?limit=10`)));
    check('get', '/chats/{user_id}', await as(request(t.http).get(`/chats/${grace.id}?limit=500`)));
    check('get', '/chats/{user_id}', await as(request(t.http).get('/chats/999999')));
    check('post', '/global_chat', await as(request(t.http).post('/global_chat')).send({ message: 'hello all' }));
    check('post', '/global_chat', await as(request(t.http).post('/global_chat')).send({ message: '' }));
    check('get', '/global_chat', await as(request(t.http).get('/global_chat')));
    check('get', '/global_chat', await as(request(t.http).get('/global_chat?before_id=abc')));
    check(
      'delete',
      '/active_sessions/{id}',
      await as(request(t.http).delete(`/active_sessions/${graceLogin.body.session.id}`)),
    );
    check('delete', '/active_sessions/{id}', await as(request(t.http).delete('/active_sessions/abc')));
    check(
      'delete',
      '/active_sessions/{id}',
      await as(request(t.http).delete(`/active_sessions/${second.body.session.id}`)),
    );
    check('delete', '/active_sessions', await as(request(t.http).delete('/active_sessions')));
    // Past REAUTH_MAX_AGE: the 403 that asks for the password again, then the re-authentication.
    t.clock.advance(t.config.reauthMaxAge + 1);
    const third = await login(t.http, ada, 'third');
    check('delete', '/active_sessions', await as(request(t.http).delete('/active_sessions')));
    check(
      'delete',
      '/active_sessions/{id}',
      await as(request(t.http).delete(`/active_sessions/${third.body.session.id}`)),
    );
    check('get', '/login_activity', await as(request(t.http).get('/login_activity')));
    check('post', '/reauthenticate', await as(request(t.http).post('/reauthenticate')).send({ password: 'wrong' }));
    check('post', '/reauthenticate', await as(request(t.http).post('/reauthenticate')).send({}));
    check('post', '/reauthenticate', await request(t.http).post('/reauthenticate').send({ password: 'x' }));
    check(
      'post',
      '/reauthenticate',
      await as(request(t.http).post('/reauthenticate')).send({ password: ada.password }),
    );
    check('get', '/login_activity', await request(t.http).get('/login_activity'));
    check(
      'post',
      '/change_password',
      await as(request(t.http).post('/change_password')).send({
        current_password: 'wrong',
        new_password: 'a new password 1',
      }),
    );
    check('post', '/change_password', await as(request(t.http).post('/change_password')).send({}));
    // Account recovery: the links are read from the mails the server wrote (no MAIL_URL here).
    const send = (path: string, body: object) => request(t.http).post(path).send(body);
    check('post', '/forgot_password', await send('/forgot_password', { email: grace.email }));
    check('post', '/forgot_password', await send('/forgot_password', {}));
    check('post', '/resend_verification', await send('/resend_verification', { email: grace.email }));
    check('post', '/resend_verification', await send('/resend_verification', {}));
    check('post', '/resend_verification', await as(request(t.http).post('/resend_verification')).send({}));
    const changeTo = (body: object) => as(request(t.http).post('/change_email')).send(body);
    check('post', '/change_email', await changeTo({ password: 'wrong', new_email: 'ada.new@example.com' }));
    check('post', '/change_email', await changeTo({ password: ada.password, new_email: grace.email }));
    check('post', '/change_email', await changeTo({ password: ada.password, new_email: 'ada' }));
    check('post', '/change_email', await changeTo({ password: ada.password, new_email: 'ada.new@example.com' }));
    check('post', '/change_email', await request(t.http).post('/change_email').send({}));
    const resetToken = await mailedToken(t, grace.email, '/reset_password_page');
    check('post', '/reset_password', await send('/reset_password', { token: resetToken, new_password: 'short' }));
    check('post', '/reset_password', await send('/reset_password', { token: resetToken, new_password: 'a new one 2' }));
    check('post', '/reset_password', await send('/reset_password', { token: resetToken, new_password: 'a new one 3' }));
    const changeToken = await mailedToken(t, 'ada.new@example.com', '/verify_email_page');
    check('post', '/verify_email', await as(request(t.http).post('/verify_email')).send({ token: changeToken }));
    check('post', '/verify_email', await send('/verify_email', { token: changeToken }));
    check('post', '/verify_email', await send('/verify_email', {}));
    check('post', '/resend_verification', await as(request(t.http).post('/resend_verification')).send({}));
    check('get', '/health', await request(t.http).get('/health'));
    check('get', '/health/live', await request(t.http).get('/health/live'));
    check('post', '/logout', await as(request(t.http).post('/logout')));
    check('get', '/logout', await request(t.http).get('/logout'));
    check('get', '/active_sessions', await as(request(t.http).get('/active_sessions')));

    // Passkeys, with a software authenticator answering as a browser would.
    const keyOwner = await login(t.http, await signup(t.http));
    const asOwner = (r: request.Test) => r.set('Cookie', keyOwner.cookie);
    const authenticator = new SoftAuthenticator(t.config.publicUrl);
    const creation = await asOwner(request(t.http).post('/passkeys/registration_options'));
    check('post', '/passkeys/registration_options', creation);
    check('post', '/passkeys/registration_options', await request(t.http).post('/passkeys/registration_options'));
    const created = authenticator.create(creation.body as Record<string, unknown>);
    const added = await asOwner(request(t.http).post('/passkeys')).send({ response: created });
    check('post', '/passkeys', added);
    check('post', '/passkeys', await asOwner(request(t.http).post('/passkeys')).send({ response: created }));
    check('post', '/passkeys', await asOwner(request(t.http).post('/passkeys')).send({ response: 'x' }));
    check('get', '/passkeys', await asOwner(request(t.http).get('/passkeys')));
    const passkeyPath = `/passkeys/${(added.body as { passkey: { id: number } }).passkey.id}`;
    check('patch', '/passkeys/{id}', await asOwner(request(t.http).patch(passkeyPath)).send({ name: 'Laptop' }));
    check('patch', '/passkeys/{id}', await asOwner(request(t.http).patch('/passkeys/999999')).send({ name: 'x' }));
    check('patch', '/passkeys/{id}', await asOwner(request(t.http).patch(passkeyPath)).send({ name: '' }));
    const signInOptions = await request(t.http).post('/login/passkey_options');
    check('post', '/login/passkey_options', signInOptions);
    const assertion = authenticator.get(signInOptions.body as Record<string, unknown>);
    check('post', '/login/passkey', await request(t.http).post('/login/passkey').send({ response: assertion }));
    check('post', '/login/passkey', await request(t.http).post('/login/passkey').send({ response: assertion }));
    check('post', '/login/passkey', await request(t.http).post('/login/passkey').send({}));
    const reauthOptions = await asOwner(request(t.http).post('/reauthenticate/passkey_options'));
    check('post', '/reauthenticate/passkey_options', reauthOptions);
    const reauth = authenticator.get(reauthOptions.body as Record<string, unknown>);
    check(
      'post',
      '/reauthenticate/passkey',
      await asOwner(request(t.http).post('/reauthenticate/passkey')).send({ response: reauth }),
    );
    check(
      'post',
      '/reauthenticate/passkey',
      await asOwner(request(t.http).post('/reauthenticate/passkey')).send({ response: reauth }),
    );
    check('post', '/reauthenticate/passkey', await asOwner(request(t.http).post('/reauthenticate/passkey')).send({}));
    t.clock.advance(t.config.reauthMaxAge + 1);
    check('delete', '/passkeys/{id}', await asOwner(request(t.http).delete(passkeyPath)));
    check('delete', '/passkeys/{id}', await asOwner(request(t.http).delete('/passkeys/999999')));
    await asOwner(request(t.http).post('/reauthenticate')).send({ password: 'correct horse battery' }).expect(200);
    check('delete', '/passkeys/{id}', await asOwner(request(t.http).delete(passkeyPath)));

    // The admin routes, as an administrator (and as anyone else: 404).
    const root = await signup(t.http, { email: 'root@example.com' });
    const rootSession = await login(t.http, root);
    const asRoot = (r: request.Test) => r.set('Cookie', rootSession.cookie);
    check('get', '/admin/users', await asRoot(request(t.http).get(`/admin/users?email=${grace.email}`)));
    check('get', '/admin/users', await asRoot(request(t.http).get('/admin/users')));
    check('get', '/admin/users', await request(t.http).get(`/admin/users?email=${grace.email}`));
    check('get', '/admin/users/{id}/sessions', await asRoot(request(t.http).get(`/admin/users/${grace.id}/sessions`)));
    check('get', '/admin/users/{id}/sessions', await asRoot(request(t.http).get('/admin/users/999999/sessions')));
    check('get', '/admin/users/{id}/sessions', await asRoot(request(t.http).get('/admin/users/abc/sessions')));
    check(
      'delete',
      '/admin/users/{id}/sessions',
      await asRoot(request(t.http).delete(`/admin/users/${grace.id}/sessions`)),
    );
    check('post', '/admin/users/{id}/disable', await asRoot(request(t.http).post(`/admin/users/${grace.id}/disable`)));
    check('post', '/admin/users/{id}/disable', await asRoot(request(t.http).post(`/admin/users/${root.id}/disable`)));
    check('post', '/admin/users/{id}/enable', await asRoot(request(t.http).post(`/admin/users/${grace.id}/enable`)));
    check('post', '/admin/users/{id}/enable', await as(request(t.http).post(`/admin/users/${grace.id}/enable`)));
    t.clock.advance(t.config.reauthMaxAge + 1);
    check(
      'delete',
      '/admin/users/{id}/sessions',
      await asRoot(request(t.http).delete(`/admin/users/${grace.id}/sessions`)),
    );

    // The authenticator app and the second step at login.
    const tess = await signup(t.http, { email: 'tess@example.com' });
    const tessSession = await login(t.http, tess);
    const asTess = (r: request.Test) => r.set('Cookie', tessSession.cookie);
    const code = (secret: string, steps = 0) =>
      totpOf(secret, 'x').generate({ timestamp: t.clock.now().getTime() + steps * TOTP_PERIOD_SECONDS * 1000 });
    check('post', '/totp/confirm', await asTess(request(t.http).post('/totp/confirm')).send({ code: '123456' }));
    check('get', '/totp', await asTess(request(t.http).get('/totp')));
    const setup = await asTess(request(t.http).post('/totp/setup'));
    check('post', '/totp/setup', setup);
    const secret = setup.body.secret as string;
    check('post', '/totp/confirm', await asTess(request(t.http).post('/totp/confirm')).send({ code: 'abc' }));
    check(
      'post',
      '/totp/confirm',
      await asTess(request(t.http).post('/totp/confirm')).send({ code: code(secret, -1) }),
    );
    check('post', '/totp/setup', await asTess(request(t.http).post('/totp/setup')));
    check('post', '/recovery_codes', await asTess(request(t.http).post('/recovery_codes')));
    const tessLogin = { email: tess.email, password: tess.password };
    const pending = await request(t.http)
      .post('/login')
      .send({ ...tessLogin, return_token: true });
    check('post', '/login', pending);
    const pendingToken = pending.body.pending_token as string;
    const step = (body: object) => send('/login/second_factor', { pending_token: pendingToken, ...body });
    check('post', '/login/second_factor', await step({ code: '000000' }));
    check('post', '/login/second_factor', await step({}));
    check('post', '/login/second_factor', await step({ code: code(secret, 1) }));
    check('post', '/login/second_factor', await step({ code: code(secret, 1) }));
    check('delete', '/totp', await request(t.http).delete('/totp'));
    t.clock.advance(t.config.reauthMaxAge + 1);
    check('delete', '/totp', await asTess(request(t.http).delete('/totp')));
    await asTess(request(t.http).post('/reauthenticate')).send({ password: tess.password }).expect(200);
    check('post', '/recovery_codes', await asTess(request(t.http).post('/recovery_codes')));
    check('delete', '/totp', await asTess(request(t.http).delete('/totp')));
    check('delete', '/totp', await asTess(request(t.http).delete('/totp')));

    expect(problems).toEqual([]);
    // Every route of the catalogue was called.
    expect(API_OPERATIONS.map(([method, path]) => `${method} ${path}`).filter((r) => !checked.has(r))).toEqual([]);
  });

  it('gives every error response an example of its own status (not a 400 body under every status)', () => {
    const problems: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(operations))
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) < 400) continue;
          const json = response.content?.['application/json'];
          const example = json?.example as { statusCode?: unknown; error?: unknown } | undefined;
          const where = `${method} ${path} ${status}`;
          if (!example) problems.push(`${where}: no example`);
          else {
            if (example.statusCode !== Number(status))
              problems.push(`${where}: example has statusCode ${String(example.statusCode)}`);
            if (example.error !== STATUS_CODES[Number(status)])
              problems.push(`${where}: example has error ${String(example.error)}`);
            problems.push(...checkAgainstSchema(doc, json!.schema, example, `${where} example`));
          }
        }
    expect(problems).toEqual([]);
  });

  it('lets null through where a property is a nullable object (location), as OpenAPI 3.0 validators read it', async () => {
    // No nullable property leans on allOf/$ref, which nullable does not reach (OpenAPI 3.0.3).
    const leaning = Object.entries(doc.components.schemas).flatMap(([name, schema]) =>
      Object.entries(schema.properties ?? {})
        .filter(([, prop]) => prop.nullable && (prop.allOf || prop.$ref))
        .map(([key]) => `${name}.${key}`),
    );
    expect(leaning).toEqual([]);

    const ada = await signup(t.http);
    const { cookie } = await login(t.http, ada);
    const status = await request(t.http).get('/session_status').set('Cookie', cookie).expect(200);
    expect(status.body.session.location).toBeNull();
    const sessionSchema = { $ref: '#/components/schemas/SessionDto' };
    expect(checkAgainstSchema(doc, sessionSchema, status.body.session)).toEqual([]);
    const list = await request(t.http).get('/active_sessions').set('Cookie', cookie).expect(200);
    const listSchema = doc.paths['/active_sessions'].get.responses['200'].content!['application/json'].schema;
    expect(checkAgainstSchema(doc, listSchema, list.body)).toEqual([]);
    // A located session validates too, and a wrong location does not.
    expect(checkAgainstSchema(doc, sessionSchema, { ...status.body.session, location: { country: 'DE' } })).toEqual([]);
    expect(checkAgainstSchema(doc, sessionSchema, { ...status.body.session, location: { country: 5 } })).not.toEqual(
      [],
    );
    // The checker reads nullable as validators do: the old form refused a real null.
    const oldForm = { nullable: true, type: 'object', allOf: [{ $ref: '#/components/schemas/LocationDto' }] };
    expect(checkAgainstSchema(doc, oldForm, null)).not.toEqual([]);
  });

  it('documents the browser pages as text/html, and the dashboard as both JSON and text/html', async () => {
    for (const path of PAGE_ROUTES.map((r) => r.path)) {
      const op = doc.paths[path]?.get;
      expect(op?.responses['200']?.content?.['text/html']?.schema).toEqual({ type: 'string' });
    }
    const userpage = doc.paths['/userpage'].get.responses['200'].content;
    expect(Object.keys(userpage ?? {}).sort()).toEqual(['application/json', 'text/html']);
    expect(userpage?.['application/json'].schema).toEqual({ $ref: '#/components/schemas/UserPageDto' });
    expect(doc.components.schemas.UserPageDto).toBeDefined();
    // Plain HTML form posts from a browser are redirected (303).
    for (const path of ['/signup', '/login', '/logout']) expect(doc.paths[path].post.responses['303']).toBeDefined();

    const ada = await signup(t.http);
    const { cookie } = await login(t.http, ada);
    for (const [path, auth] of [
      ['/signup_page', ''],
      ['/login_page', ''],
      ['/userpage', cookie],
    ]) {
      const res = await request(t.http).get(path).set('Accept', 'text/html').set('Cookie', auth).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
    }
  });
});
