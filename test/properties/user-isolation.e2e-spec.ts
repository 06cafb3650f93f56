import fc from 'fast-check';
import { type Response } from 'supertest';
import { Chat } from '../../src/chat/chat.entity';
import { Session } from '../../src/sessions/session.entity';
import { unicodeString } from '../utils/arbitraries';
import { usePropertyApp, expectSafe, expectStatus, fail, MAX_ID, percentEncode, show } from '../utils/property-checks';
import { login, signup, type LoggedIn, type TestUser } from '../utils/test-app';

/**
 * Property 4: any sequence of A's requests never shows B's data and never ends B's sessions.
 *
 * What every property spec shares is said once, in test/utils/property-checks.ts.
 */
describe('Property tests (fast-check): isolation between users', () => {
  const { t, send, uniq } = usePropertyApp();
  const sessions = () => t.dataSource.getRepository(Session);

  it("4. any sequence of A's requests never shows B's data and never ends B's sessions", async () => {
    const tag = uniq();
    const a = await signup(t.http, { email: `prop4-a-${tag}@example.com`, name: 'Alice Four' });
    const b = await signup(t.http, {
      email: `prop4-b-secret-${tag}@example.com`,
      name: 'Bob Four',
      phone: '+99 (555) 424-2424',
    });
    const c = await signup(t.http, {
      email: `prop4-c-secret-${tag}@example.com`,
      name: 'Carol Four',
      phone: '+98 (555) 313-1313',
    });
    const bAgent = `B-secret-agent-${tag}`;

    const aSessions: LoggedIn[] = [];
    for (let i = 0; i < 4; i++) aSessions.push(await login(t.http, a, `A-device-${i}`));
    const bSessions: LoggedIn[] = [];
    for (let i = 0; i < 3; i++) bSessions.push(await login(t.http, b, bAgent));
    const cSession = await login(t.http, c, `C-agent-${tag}`);
    const aCurrent = aSessions[aSessions.length - 1];
    // A failed sign-in on B's account, from B's agent: it must not show in A's login activity.
    await send('post', '/login')
      .set('User-Agent', bAgent)
      .send({ email: b.email, password: 'wrong password!' })
      .expect(401);

    const say = (from: LoggedIn, to: TestUser, message: string) =>
      send('post', '/chats').set('Cookie', from.cookie).send({ receiver_id: to.id, message }).expect(201);
    await say(aCurrent, b, 'a to b');
    await say(bSessions[0], a, 'b to a');
    await say(bSessions[0], c, `bc-secret-1-${tag}`);
    await say(cSession, b, `bc-secret-2-${tag}`);
    await say(aCurrent, c, 'a to c');
    await say(cSession, a, 'c to a');
    await say(bSessions[1], c, `bc-secret-3-${tag}`);
    await send('post', '/global_chat').set('Cookie', aCurrent.cookie).send({ message: 'global from A' }).expect(201);
    await send('post', '/global_chat')
      .set('Cookie', bSessions[2].cookie)
      .send({ message: 'global from B' })
      .expect(201);

    const bIds = bSessions.map((s) => s.body.session.id);
    const cIds = [cSession.body.session.id];
    const aActive = new Set(aSessions.slice(0, -1).map((s) => s.body.session.id));
    const aAll = new Set(aSessions.map((s) => s.body.session.id));
    const secrets = [
      b.email,
      c.email,
      b.phone,
      c.phone,
      bAgent,
      `bc-secret-1-${tag}`,
      `bc-secret-2-${tag}`,
      `bc-secret-3-${tag}`,
    ];

    // Every session of every other user, as it is before A does anything.
    const snapshot = async () =>
      (await sessions().createQueryBuilder('s').where('s.user_id <> :a', { a: a.id }).orderBy('s.id').getMany()).map(
        (s) => [s.id, s.isActive, s.endReason],
      );
    const before = await snapshot();

    const sessionId = fc
      .oneof(
        { arbitrary: fc.constantFrom(...bIds, ...cIds), weight: 4 },
        { arbitrary: fc.constantFrom(...aActive), weight: 1 },
        { arbitrary: fc.integer({ min: -5, max: 3_000_000_000 }), weight: 2 },
        { arbitrary: fc.integer({ min: 1, max: 200 }), weight: 2 },
      )
      .filter((id) => id !== aCurrent.body.session.id);
    const userId = fc.oneof(
      fc.constantFrom(String(a.id), String(b.id), String(c.id)),
      fc.integer({ min: -5, max: 3_000_000_000 }).map(String),
      unicodeString(20, 1),
    );
    type Command =
      | { kind: 'list' | 'chats' | 'userpage' | 'status' | 'activity' | 'global' }
      | { kind: 'delete'; id: number }
      | { kind: 'chat'; id: string; query: string };
    const command: fc.Arbitrary<Command> = fc.oneof(
      fc.constantFrom<Command>(
        { kind: 'list' },
        { kind: 'chats' },
        { kind: 'userpage' },
        { kind: 'status' },
        { kind: 'activity' },
        { kind: 'global' },
      ),
      fc.record({ kind: fc.constant('delete' as const), id: sessionId }),
      fc.record({
        kind: fc.constant('chat' as const),
        id: userId,
        query: fc.constantFrom('', '?limit=1', '?limit=100', '?before_id=1', '?limit=0'),
      }),
    );

    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 8 }), async (commands) => {
        for (const cmd of commands) {
          let res: Response;
          const cookie = aCurrent.cookie;
          switch (cmd.kind) {
            case 'list': {
              res = await send('get', '/active_sessions').set('Cookie', cookie);
              expectStatus(res, 200, 'GET /active_sessions');
              const ids: number[] = res.body.sessions.map((s: { id: number }) => s.id);
              for (const id of ids)
                if (!aAll.has(id)) fail(`A's session list has session ${id}, not A's: ${show(res)}`);
              if (ids.length !== aActive.size + 1)
                fail(`A's session list has ${ids.length} sessions, expected ${aActive.size + 1}`);
              break;
            }
            case 'delete': {
              res = await send('delete', `/active_sessions/${cmd.id}`).set('Cookie', cookie);
              const expected = cmd.id < 1 || cmd.id > MAX_ID ? 400 : aActive.has(cmd.id) ? 204 : 404;
              expectStatus(res, expected, `DELETE /active_sessions/${cmd.id}`);
              // Another user's session and an unknown id get the very same answer.
              if (res.status === 404)
                expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Session not found' });
              if (res.status === 204) aActive.delete(cmd.id);
              break;
            }
            case 'chats': {
              res = await send('get', '/chats').set('Cookie', cookie);
              expectStatus(res, 200, 'GET /chats');
              for (const conv of res.body.conversations as Array<{
                user: { id: number };
                last_message: { sender_id: number; receiver_id: number };
              }>) {
                const m = conv.last_message;
                if (m.sender_id !== a.id && m.receiver_id !== a.id)
                  fail(`GET /chats shows a conversation A is not in: ${show(res)}`);
                if (![m.sender_id, m.receiver_id].includes(conv.user.id))
                  fail(`GET /chats: partner ${conv.user.id} not in its last message`);
              }
              break;
            }
            case 'chat': {
              const path = `/chats/${percentEncode(cmd.id)}${cmd.query}`;
              res = await send('get', path).set('Cookie', cookie);
              expectSafe(res, `GET ${path}`);
              if (res.status === 200) {
                const other = Number(cmd.id);
                for (const m of res.body.messages as Array<{ sender_id: number; receiver_id: number }>) {
                  const between =
                    (m.sender_id === a.id && m.receiver_id === other) ||
                    (m.sender_id === other && m.receiver_id === a.id);
                  if (!between) fail(`GET ${path} shows a message not between A and ${other}: ${show(res)}`);
                }
              }
              break;
            }
            case 'userpage':
              res = await send('get', '/userpage').set('Cookie', cookie);
              expectStatus(res, 200, 'GET /userpage');
              if (res.body.user.id !== a.id || res.body.user.email !== a.email)
                fail(`GET /userpage is not A's: ${show(res)}`);
              if (res.body.active_sessions !== aActive.size + 1)
                fail(`GET /userpage counts ${res.body.active_sessions} sessions, expected ${aActive.size + 1}`);
              break;
            case 'status':
              res = await send('get', '/session_status').set('Cookie', cookie);
              expectStatus(res, 200, 'GET /session_status');
              if (res.body.user.id !== a.id || res.body.session.id !== aCurrent.body.session.id)
                fail(`GET /session_status is not A's: ${show(res)}`);
              break;
            case 'activity':
              res = await send('get', '/login_activity').set('Cookie', cookie);
              expectStatus(res, 200, 'GET /login_activity');
              if (res.body.attempts.length !== aSessions.length)
                fail(
                  `A's login activity has ${res.body.attempts.length} attempts, expected ${aSessions.length}: ${show(res)}`,
                );
              break;
            case 'global':
              res = await send('get', '/global_chat').set('Cookie', cookie);
              expectStatus(res, 200, 'GET /global_chat');
              break;
          }
          expectSafe(res, `A's ${cmd.kind}`);
          for (const secret of secrets)
            if (res.text.includes(secret))
              fail(`A's ${JSON.stringify(cmd)} answer contains ${JSON.stringify(secret)}: ${show(res)}`);
        }
      }),
      { numRuns: 150 },
    );

    // Nothing A did changed anyone else's sessions; B's are all still active and usable.
    expect(await snapshot()).toEqual(before);
    const bRows = await sessions().findBy({ userId: b.id });
    expect(bRows).toHaveLength(bIds.length);
    for (const row of bRows) expect(row).toMatchObject({ isActive: true, endReason: null, logoutTime: null });
    for (const s of bSessions) await send('get', '/session_status').set('Cookie', s.cookie).expect(200);
    expect(await t.dataSource.getRepository(Chat).countBy({ senderId: b.id })).toBe(3);
  });
});
