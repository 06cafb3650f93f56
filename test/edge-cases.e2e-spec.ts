import { connect, type AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { Session } from '../src/sessions/session.entity';
import { createTestApp, login, sessionSetCookie, signup, type TestApp, type TestUser } from './utils/test-app';

/** An unknown token of the right shape (it costs a lookup and names no session). */
const UNKNOWN = 'A'.repeat(43);

describe('Several session cookies on one request (issue 17)', () => {
  let t: TestApp;
  let user: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    user = await signup(t.http);
  });
  afterAll(() => t.close());

  /** A token whose session has ended (logged out). */
  async function endedToken(): Promise<string> {
    const { token } = await login(t.http, user);
    await request(t.http).post('/logout').set('Cookie', `session_token=${token}`).expect(200);
    return token;
  }

  it('a bad cookie before or after the good one never hides it', async () => {
    const { token } = await login(t.http, user);
    const ended = await endedToken();
    for (const bad of ['garbage', '', '%ZZ%', UNKNOWN, ended]) {
      for (const cookie of [
        `session_token=${bad}; session_token=${token}`,
        `session_token=${token}; session_token=${bad}`,
      ]) {
        const res = await request(t.http).get('/session_status').set('Cookie', cookie);
        expect({ cookie, status: res.status }).toEqual({ cookie, status: 200 });
        expect(res.body.user.id).toBe(user.id);
      }
    }
    // A protected route, with other cookies around and a path-scoped duplicate as a browser sends it.
    await request(t.http)
      .get('/active_sessions')
      .set('Cookie', `theme=dark; session_token=${UNKNOWN}; x_session_token=1; session_token=${token}; lang=en`)
      .expect(200);
  });

  it('when none authenticates: 401 with the first reason that says more than `invalid`', async () => {
    const ended = await endedToken();
    const res = await request(t.http)
      .get('/session_status')
      .set('Cookie', `session_token=garbage; session_token=${UNKNOWN}; session_token=${ended}`)
      .expect(401);
    expect(res.body).toMatchObject({ authenticated: false, reason: 'logged_out' });
    const invalid = await request(t.http)
      .get('/active_sessions')
      .set('Cookie', `session_token=garbage; session_token=${UNKNOWN}`)
      .expect(401);
    expect(invalid.body.reason).toBe('invalid');
  });

  it('tries at most four well-formed values (each costs a lookup); repeats and malformed ones do not count', async () => {
    const { token } = await login(t.http, user);
    const unknown = (i: number) => `session_token=${String(i).repeat(43)}`;
    const three = [1, 2, 3].map(unknown).join('; ');
    const four = [1, 2, 3, 4].map(unknown).join('; ');
    await request(t.http).get('/session_status').set('Cookie', `${three}; session_token=${token}`).expect(200);
    const past = await request(t.http)
      .get('/session_status')
      .set('Cookie', `${four}; session_token=${token}`)
      .expect(401);
    expect(past.body.reason).toBe('invalid');
    await request(t.http)
      .get('/session_status')
      .set('Cookie', `${three}; ${unknown(1)}; session_token=bad; session_token=${token}`)
      .expect(200);
  });

  it('logging in with several cookies ends the session they name (no fixation), as with one', async () => {
    const { token, body } = await login(t.http, user);
    const res = await request(t.http)
      .post('/login')
      .set('Cookie', `session_token=${UNKNOWN}; session_token=${token}`)
      .send({ email: user.email, password: user.password })
      .expect(200);
    expect(sessionSetCookie(res.headers['set-cookie'])).toMatch(/^session_token=[A-Za-z0-9_-]{43};/);
    const old = await t.dataSource.getRepository(Session).findOneByOrFail({ id: body.session.id });
    expect(old).toMatchObject({ isActive: false, endReason: 'logged_out' });
  });

  it('the name appearing only inside another cookie is no session cookie (reason missing)', async () => {
    const res = await request(t.http)
      .get('/session_status')
      .set('Cookie', `x_session_token=${UNKNOWN}; other=session_token=${UNKNOWN}`)
      .expect(401);
    expect(res.body.reason).toBe('missing');
  });
});

describe('Several __Host- session cookies with SESSION_COOKIE_SECURE=true', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SESSION_COOKIE_SECURE: 'true' });
  });
  afterAll(() => t.close());

  it('tries each __Host-session_token, and never a plain session_token', async () => {
    const user = await signup(t.http);
    const res = await request(t.http).post('/login').send({ email: user.email, password: user.password }).expect(200);
    const token = /^__Host-session_token=([^;]+)/.exec(sessionSetCookie(res.headers['set-cookie']))![1];
    await request(t.http)
      .get('/session_status')
      .set('Cookie', `__Host-session_token=${UNKNOWN}; __Host-session_token=${token}`)
      .expect(200);
    const plain = await request(t.http)
      .get('/session_status')
      .set('Cookie', `session_token=${token}; session_token=${UNKNOWN}`)
      .expect(401);
    expect(plain.body.reason).toBe('missing');
  });
});

describe('A malformed Authorization header (issue 17)', () => {
  let t: TestApp;
  let user: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    user = await signup(t.http);
  });
  afterAll(() => t.close());

  const MALFORMED = ['Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearer a b', 'garbage', 'Token abc', ''];

  it('is answered 401 (reason invalid) on protected routes, even with a valid session cookie beside it', async () => {
    const { cookie } = await login(t.http, user);
    for (const auth of MALFORMED) {
      const res = await request(t.http).get('/active_sessions').set('Cookie', cookie).set('Authorization', auth);
      expect({ auth, status: res.status, reason: res.body.reason }).toEqual({ auth, status: 401, reason: 'invalid' });
      expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', authenticated: false });
    }
    // The cookie alone still works: nothing was ended.
    await request(t.http).get('/active_sessions').set('Cookie', cookie).expect(200);
  });

  it('/session_status answers 401 reason invalid; a well-formed Bearer token is used whatever the cookie says', async () => {
    const { cookie, token } = await login(t.http, user);
    for (const auth of MALFORMED) {
      const res = await request(t.http).get('/session_status').set('Cookie', cookie).set('Authorization', auth);
      expect({ auth, status: res.status, reason: res.body.reason }).toEqual({ auth, status: 401, reason: 'invalid' });
    }
    await request(t.http)
      .get('/session_status')
      .set('Cookie', `session_token=${UNKNOWN}`)
      .set('Authorization', `bearer  ${token}`)
      .expect(200);
  });

  it('/logout treats it as no session: 200 and the cookie cleared, but the session it did not name goes on', async () => {
    const { cookie, body } = await login(t.http, user);
    const res = await request(t.http).post('/logout').set('Cookie', cookie).set('Authorization', 'Bearer').expect(200);
    expect(sessionSetCookie(res.headers['set-cookie'] as unknown as string[])).toMatch(
      /^session_token=;.*Expires=Thu, 01 Jan 1970/,
    );
    const session = await t.dataSource.getRepository(Session).findOneByOrFail({ id: body.session.id });
    expect(session.isActive).toBe(true);
  });

  it('does not stop a login (a public route), which ends no session', async () => {
    const { cookie, body } = await login(t.http, user);
    await request(t.http)
      .post('/login')
      .set('Cookie', cookie)
      .set('Authorization', 'Basic dXNlcjpwYXNz')
      .send({ email: user.email, password: user.password })
      .expect(200);
    const session = await t.dataSource.getRepository(Session).findOneByOrFail({ id: body.session.id });
    expect(session.isActive).toBe(true);
  });
});

describe('Bodies over the limit and bodies that are not UTF-8, on a real socket (issue 17)', () => {
  let t: TestApp;
  let port: number;
  let url: string;
  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(() => t.close());

  /** A streaming fetch of `total` bytes of JSON whitespace in `piece`-sized chunks (chunked, no Content-Length). */
  async function streamingPost(path: string, total: number, piece: number): Promise<Response> {
    const chunk = new Uint8Array(piece).fill(0x20);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= total) return controller.close();
        sent += piece;
        controller.enqueue(chunk);
      },
    });
    return fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
  }

  it('a streaming fetch of a 200 kB chunked body reads its 413 and a JSON body, every time', async () => {
    for (const [path, piece] of [
      ['/login', 200 * 1024],
      ['/login', 16 * 1024],
      ['/signup', 64 * 1024],
      ['/global_chat', 200 * 1024],
    ] as const) {
      for (let i = 0; i < 10; i++) {
        const res = await streamingPost(path, 200 * 1024, piece);
        expect(res.status).toBe(413);
        expect(res.headers.get('connection')).toBe('close');
        expect(await res.json()).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
      }
    }
    // Far more than the limit: still read, and the server goes on serving.
    const big = await streamingPost('/login', 3 * 1024 * 1024, 64 * 1024);
    expect(big.status).toBe(413);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it('with Content-Length, too', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Buffer.alloc(200 * 1024, 0x20),
      });
      expect(res.status).toBe(413);
      expect((await res.json()).statusCode).toBe(413);
    }
  });

  interface RawOutcome {
    /** Everything the server sent. */
    response: string;
    /** The socket's error, if any, and how much of the response had arrived by then. */
    error?: string;
    responseAtError?: string;
    /** Body bytes written after the 413 had arrived. */
    sentAfterAnswer: number;
  }

  /**
   * A raw chunked POST of 150 kB, then (once the 413 has arrived) `after` more bytes and, if
   * `finish`, the final chunk; resolves when the server has closed the connection.
   */
  function rawChunkedPost(after: number, finish: boolean): Promise<RawOutcome> {
    return new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      const outcome: RawOutcome = { response: '', sentAfterAnswer: 0 };
      const piece = ' '.repeat(8192);
      const frame = `${(8192).toString(16)}\r\n${piece}\r\n`;
      let answered = false;
      const sendMore = (): void => {
        while (outcome.sentAfterAnswer < after && !socket.destroyed) {
          outcome.sentAfterAnswer += 8192;
          if (!socket.write(frame)) return void socket.once('drain', sendMore);
        }
        if (finish && !socket.destroyed) socket.end('0\r\n\r\n');
      };
      socket.on('data', (data: Buffer) => {
        outcome.response += data.toString('latin1');
        if (!answered && outcome.response.includes('\r\n\r\n{')) {
          answered = true;
          sendMore();
        }
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        outcome.error ??= error.code ?? error.message;
        outcome.responseAtError ??= outcome.response;
      });
      socket.on('close', () => resolve(outcome));
      socket.write(
        `POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      );
      for (let i = 0; i < 19; i++) socket.write(frame);
    });
  }

  it('a raw socket reads the whole 413 before the connection ends, and the server closes it once the body is done', async () => {
    const outcome = await rawChunkedPost(200 * 1024, true);
    expect(outcome.error).toBeUndefined();
    expect(outcome.response).toMatch(/^HTTP\/1\.1 413 /);
    expect(outcome.response).toMatch(/\r\nconnection: close\r\n/i);
    const body = outcome.response.slice(outcome.response.indexOf('\r\n\r\n') + 4);
    expect(JSON.parse(body)).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
  });

  it('stops reading a body that never ends (a bounded linger), after the 413 was read', async () => {
    // Far more than LINGER_BYTES (plus what the socket buffers hold) after the answer: the server
    // must close the connection on its own.
    const outcome = await rawChunkedPost(64 * 1024 * 1024, false);
    expect(outcome.response).toMatch(/^HTTP\/1\.1 413 /);
    if (outcome.error) expect(outcome.responseAtError).toMatch(/^HTTP\/1\.1 413 [\s\S]*\r\n\r\n\{/);
    expect(outcome.sentAfterAnswer).toBeLessThan(64 * 1024 * 1024);
  });

  const NOT_UTF8_JSON = Buffer.concat([
    Buffer.from('{"email":"a'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('@example.com","password":"correct horse battery"}'),
  ]);
  const NOT_UTF8_FORM = Buffer.concat([Buffer.from('email=a'), Buffer.from([0xc3]), Buffer.from('&password=x')]);

  it('a JSON or form body that is not valid UTF-8 gets 400 saying so (not a Content-Length mismatch)', async () => {
    for (const [type, body] of [
      ['application/json', NOT_UTF8_JSON],
      ['application/x-www-form-urlencoded', NOT_UTF8_FORM],
    ] as const) {
      for (const chunked of [false, true]) {
        const res = await fetch(`${url}/login`, {
          method: 'POST',
          headers: { 'content-type': type },
          body: chunked ? new Blob([body]).stream() : body,
          duplex: 'half',
        } as RequestInit);
        expect({ type, chunked, status: res.status }).toEqual({ type, chunked, status: 400 });
        expect(await res.json()).toEqual({
          statusCode: 400,
          error: 'Bad Request',
          message: 'Request body is not valid UTF-8',
        });
      }
    }
    // A body on a GET is checked the same way.
    const res = await fetch(`${url}/health`, {
      method: 'GET',
      headers: { 'content-type': 'application/json', 'content-length': String(NOT_UTF8_JSON.length) },
      body: new Blob([NOT_UTF8_JSON]).stream(),
      duplex: 'half',
    } as RequestInit).catch(() => undefined);
    // (fetch may refuse a GET with a body; the raw request below is what counts.)
    void res;
    const raw = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let data = '';
      socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
      socket.on('close', () => resolve(data));
      socket.on('error', () => undefined);
      socket.end(
        Buffer.concat([
          Buffer.from(
            `GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${NOT_UTF8_JSON.length}\r\n\r\n`,
          ),
          NOT_UTF8_JSON,
        ]),
      );
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw).toContain('Request body is not valid UTF-8');
    // Valid UTF-8, multi-byte characters included, still goes through.
    const ok = await fetch(`${url}/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(
        JSON.stringify({
          name: 'Zoë 日本',
          phone: '+1 555 0100',
          email: 'zoe@example.com',
          password: 'correct horse battery',
        }),
      ),
    });
    expect(ok.status).toBe(201);
  });
});

describe('A compressed body (issue 18: decoded for every request, routed or not)', () => {
  let t: TestApp;
  let user: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    user = await signup(t.http);
  });
  afterAll(() => t.close());

  const gzipped = (value: unknown) => gzipSync(Buffer.from(JSON.stringify(value)));

  it.each(['gzip', 'GZIP', ' gzip '])(
    'is decoded on a route (Content-Encoding: %j, codings ignore case)',
    async (coding) => {
      const res = await request(t.http)
        .post('/login')
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', coding)
        .serialize((raw: string) => raw)
        .send(gzipped({ email: user.email, password: user.password }));
      expect(res.status).toBe(200);
      expect(res.body.user).toMatchObject({ email: user.email });
    },
  );

  it('is decoded on an unknown path too, which then answers 404 (not a 400 about the bytes)', async () => {
    const res = await request(t.http)
      .post('/nowhere')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .serialize((raw: string) => raw)
      .send(gzipped({ a: 1 }));
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Cannot POST /nowhere' });
  });

  it('that is not what its Content-Encoding says gives 400 on an unknown path as on a route', async () => {
    for (const path of ['/nowhere', '/login']) {
      const res = await request(t.http)
        .post(path)
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', 'gzip')
        .send('not gzip');
      expect({ path, status: res.status, body: res.body }).toEqual({
        path,
        status: 400,
        body: { statusCode: 400, error: 'Bad Request', message: 'Request body could not be read' },
      });
    }
  });
});
