import request from 'supertest';
import { Chat } from '../src/chat/chat.entity';
import { GlobalChat } from '../src/chat/global-chat.entity';
import { createTestApp, login, signup, type TestApp, type TestUser } from './utils/test-app';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UNKNOWN_ID = 999999;

interface Member extends TestUser {
  bearer: string;
}

interface ChatMessage {
  id: number;
  sender_id: number;
  receiver_id: number;
  message: string;
  timestamp: string;
}

interface GlobalMessage {
  id: number;
  user_id: number;
  user_name: string;
  message: string;
  timestamp: string;
}

describe('Private chats and the global room', () => {
  let t: TestApp;
  let alice: Member;
  let bob: Member;
  let carol: Member;

  /** Signs up and logs in a user; requests are then made with its bearer token. */
  async function member(name: string): Promise<Member> {
    const user = await signup(t.http, { name });
    const { token } = await login(t.http, user);
    return { ...user, bearer: `Bearer ${token}` };
  }

  async function send(from: Member, to: Member | number, message: string): Promise<ChatMessage> {
    const receiver_id = typeof to === 'number' ? to : to.id;
    const res = await request(t.http)
      .post('/chats')
      .set('Authorization', from.bearer)
      .send({ receiver_id, message })
      .expect(201);
    return res.body.chat;
  }

  async function post(from: Member, message: string): Promise<GlobalMessage> {
    const res = await request(t.http)
      .post('/global_chat')
      .set('Authorization', from.bearer)
      .send({ message })
      .expect(201);
    return res.body.message;
  }

  async function history(viewer: Member, other: Member | number, query = ''): Promise<ChatMessage[]> {
    const id = typeof other === 'number' ? other : other.id;
    const res = await request(t.http).get(`/chats/${id}${query}`).set('Authorization', viewer.bearer).expect(200);
    return res.body.messages;
  }

  const chatCount = () => t.dataSource.getRepository(Chat).count();
  const globalCount = () => t.dataSource.getRepository(GlobalChat).count();

  beforeAll(async () => {
    t = await createTestApp();
    alice = await member('Alice');
    bob = await member('Bob');
    carol = await member('Carol');
  });
  afterAll(() => t.close());

  describe('POST /chats', () => {
    it('stores a trimmed message and returns it', async () => {
      const before = t.clock.now().getTime();
      const res = await request(t.http)
        .post('/chats')
        .set('Authorization', alice.bearer)
        .send({ receiver_id: bob.id, message: '  Hello, Bob!\n ' })
        .expect(201);
      expect(res.body).toEqual({
        chat: {
          id: expect.any(Number),
          sender_id: alice.id,
          receiver_id: bob.id,
          message: 'Hello, Bob!',
          timestamp: expect.stringMatching(ISO),
        },
      });
      const stamp = Date.parse(res.body.chat.timestamp);
      expect(stamp).toBeGreaterThanOrEqual(before);
      expect(stamp).toBeLessThanOrEqual(t.clock.now().getTime());
      const row = await t.dataSource.getRepository(Chat).findOneByOrFail({ id: res.body.chat.id });
      expect(row).toMatchObject({ senderId: alice.id, receiverId: bob.id, message: 'Hello, Bob!' });
      expect(row.timestamp.toISOString()).toBe(res.body.chat.timestamp);
    });

    it("stamps messages with the server's clock", async () => {
      t.clock.advance(3600);
      const chat = await send(alice, bob, 'an hour later');
      expect(Math.abs(Date.parse(chat.timestamp) - t.clock.now().getTime())).toBeLessThan(5000);
      expect(Date.parse(chat.timestamp) - Date.now()).toBeGreaterThan(3500 * 1000);
    });

    it('accepts a request authenticated by the session cookie', async () => {
      const user = await signup(t.http, { name: 'Cookie Sender' });
      const { cookie } = await login(t.http, user);
      const res = await request(t.http)
        .post('/chats')
        .set('Cookie', cookie)
        .send({ receiver_id: alice.id, message: 'via cookie' })
        .expect(201);
      expect(res.body.chat).toMatchObject({ sender_id: user.id, receiver_id: alice.id, message: 'via cookie' });
    });

    it.each([
      ['2000 emoji (2000 code points, 4000 UTF-16 units)', '😀'.repeat(2000)],
      ['2000 ASCII characters inside padding', `   ${'a'.repeat(2000)}   `],
      ['one character', 'x'],
      ['combining marks and right-to-left text', 'e\u0301 שלום مرحبا'],
    ])('accepts a message of %s', async (_case, message) => {
      const chat = await send(alice, bob, message);
      expect(chat.message).toBe(message.trim());
      const row = await t.dataSource.getRepository(Chat).findOneByOrFail({ id: chat.id });
      expect(row.message).toBe(message.trim());
    });

    it.each([
      ['2001 emoji', '😀'.repeat(2001)],
      ['2001 ASCII characters', 'a'.repeat(2001)],
      ['an empty string', ''],
      ['only whitespace', ' \t\n  '],
      ['a number', 42],
      ['an object', { text: 'hi' }],
      ['an array', ['hi']],
      ['null', null],
    ])('refuses a message that is %s with 400 and stores nothing', async (_case, message) => {
      const before = await chatCount();
      const res = await request(t.http)
        .post('/chats')
        .set('Authorization', alice.bearer)
        .send({ receiver_id: bob.id, message })
        .expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(JSON.stringify(res.body.message)).toContain('message');
      expect(await chatCount()).toBe(before);
    });

    it('refuses a missing message with 400', async () => {
      const res = await request(t.http)
        .post('/chats')
        .set('Authorization', alice.bearer)
        .send({ receiver_id: bob.id })
        .expect(400);
      expect(JSON.stringify(res.body.message)).toContain('message');
    });

    it('answers 404 for an unknown receiver and stores nothing', async () => {
      const before = await chatCount();
      const res = await request(t.http)
        .post('/chats')
        .set('Authorization', alice.bearer)
        .send({ receiver_id: UNKNOWN_ID, message: 'anyone there?' })
        .expect(404);
      expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: expect.any(String) });
      expect(await chatCount()).toBe(before);
    });

    it.each([
      ['a word', 'abc'],
      ['a numeric string', '2'],
      ['a fraction', 1.5],
      ['zero', 0],
      ['negative', -1],
      ['past the id range', 2147483648],
      ['huge', 1e20],
      ['a boolean', true],
      ['null', null],
      ['an object', { id: 2 }],
      ['an array', [2]],
      ['missing', undefined],
    ])('refuses a receiver_id that is %s with 400', async (_case, receiver_id) => {
      const before = await chatCount();
      const res = await request(t.http)
        .post('/chats')
        .set('Authorization', alice.bearer)
        .send({ receiver_id, message: 'hi' })
        .expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(JSON.stringify(res.body.message)).toContain('receiver_id');
      expect(await chatCount()).toBe(before);
    });

    it.each([
      ['sender_id', { sender_id: 3 }],
      ['id', { id: 1 }],
      ['timestamp', { timestamp: '2000-01-01T00:00:00.000Z' }],
    ])('refuses an extra field (%s) with 400 and stores nothing', async (field, extra) => {
      const before = await chatCount();
      const res = await request(t.http)
        .post('/chats')
        .set('Authorization', alice.bearer)
        .send({ receiver_id: bob.id, message: 'spoof', ...extra })
        .expect(400);
      expect(JSON.stringify(res.body.message)).toContain(field);
      expect(await chatCount()).toBe(before);
    });

    it.each([
      ['no token', undefined, 'missing'],
      ['an unknown token', 'Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'invalid'],
    ])('refuses a request with %s with 401 and stores nothing', async (_case, authorization, reason) => {
      const before = await chatCount();
      const req = request(t.http).post('/chats');
      if (authorization) req.set('Authorization', authorization);
      const res = await req.send({ receiver_id: bob.id, message: 'hi' }).expect(401);
      expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', reason });
      expect(await chatCount()).toBe(before);
    });

    it('refuses a logged-out session with 401', async () => {
      const user = await signup(t.http);
      const { token } = await login(t.http, user);
      await request(t.http).post('/logout').set('Authorization', `Bearer ${token}`).expect(200);
      const res = await request(t.http)
        .post('/chats')
        .set('Authorization', `Bearer ${token}`)
        .send({ receiver_id: bob.id, message: 'hi' })
        .expect(401);
      expect(res.body.reason).toBe('logged_out');
    });
  });

  describe('GET /chats (conversations)', () => {
    let x: Member;
    let y: Member;
    let z: Member;

    beforeAll(async () => {
      x = await member('Xavier');
      y = await member('Yara 😀');
      z = await member('Zoë');
    });

    it('is empty for a user who has exchanged no messages', async () => {
      const res = await request(t.http).get('/chats').set('Authorization', x.bearer).expect(200);
      expect(res.body).toEqual({ conversations: [] });
    });

    it('lists one entry per partner, both directions collapsed, most recent first', async () => {
      await send(x, y, 'x to y 1');
      await send(y, x, 'y to x 2');
      await send(x, z, 'x to z 3');
      const zx = await send(z, x, 'z to x 4');
      const yx = await send(y, x, 'y to x 5');

      const res = await request(t.http).get('/chats').set('Authorization', x.bearer).expect(200);
      expect(res.body).toEqual({
        conversations: [
          { user: { id: y.id, name: 'Yara 😀' }, last_message: yx },
          { user: { id: z.id, name: 'Zoë' }, last_message: zx },
        ],
      });

      // A new message moves its conversation to the top, whoever sent it.
      const xz = await send(x, z, 'x to z 6');
      const again = await request(t.http).get('/chats').set('Authorization', x.bearer).expect(200);
      expect(again.body.conversations.map((c: { user: { id: number } }) => c.user.id)).toEqual([z.id, y.id]);
      expect(again.body.conversations[0].last_message).toEqual(xz);
      expect(again.body.conversations[0].last_message).toEqual({
        id: expect.any(Number),
        sender_id: x.id,
        receiver_id: z.id,
        message: 'x to z 6',
        timestamp: expect.stringMatching(ISO),
      });
    });

    it("shows each partner only their own conversations, never another pair's", async () => {
      const asY = await request(t.http).get('/chats').set('Authorization', y.bearer).expect(200);
      expect(asY.body.conversations).toEqual([
        { user: { id: x.id, name: 'Xavier' }, last_message: expect.objectContaining({ message: 'y to x 5' }) },
      ]);
      const asZ = await request(t.http).get('/chats').set('Authorization', z.bearer).expect(200);
      expect(asZ.body.conversations).toEqual([
        { user: { id: x.id, name: 'Xavier' }, last_message: expect.objectContaining({ message: 'x to z 6' }) },
      ]);
    });

    it('answers 401 without a session', async () => {
      const res = await request(t.http).get('/chats').expect(401);
      expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', reason: 'missing' });
    });
  });

  describe('GET /chats/:user_id', () => {
    let a: Member;
    let b: Member;
    let c: Member;
    let between: ChatMessage[];

    beforeAll(async () => {
      a = await member('Anna');
      b = await member('Ben');
      c = await member('Cleo');
      const sent: ChatMessage[] = [];
      for (let i = 1; i <= 7; i++) {
        sent.push(await send(i % 2 ? a : b, i % 2 ? b : a, `a-b ${i}`));
        // Other pairs' messages interleaved, so ids between a and b are not contiguous.
        await send(a, c, `a-c ${i}`);
        await send(c, b, `c-b ${i}`);
      }
      between = sent.reverse();
    });

    it("returns only the two users' messages, newest first, the same for both", async () => {
      const asA = await history(a, b);
      expect(asA).toEqual(between);
      expect(asA.map((m) => m.message)).toEqual(['a-b 7', 'a-b 6', 'a-b 5', 'a-b 4', 'a-b 3', 'a-b 2', 'a-b 1']);
      for (const m of asA) {
        expect([m.sender_id, m.receiver_id].sort()).toEqual([a.id, b.id].sort());
        expect(m.timestamp).toMatch(ISO);
      }
      expect(await history(b, a)).toEqual(between);
    });

    it('walks every message with before_id paging, with no gaps or duplicates', async () => {
      const seen: ChatMessage[] = [];
      const sizes: number[] = [];
      let query = '?limit=3';
      for (let guard = 0; guard < 10; guard++) {
        const page = await history(a, b, query);
        sizes.push(page.length);
        if (page.length === 0) break;
        seen.push(...page);
        query = `?limit=3&before_id=${page[page.length - 1].id}`;
      }
      expect(sizes).toEqual([3, 3, 1, 0]);
      expect(seen).toEqual(between);
      expect(new Set(seen.map((m) => m.id)).size).toBe(seen.length);
    });

    it('pages from any before_id: past the newest gives everything, the oldest gives nothing', async () => {
      expect(await history(a, b, `?before_id=${between[0].id + 1000}`)).toEqual(between);
      expect(await history(a, b, `?before_id=${between[between.length - 1].id}`)).toEqual([]);
      expect(await history(a, b, `?before_id=${between[2].id}`)).toEqual(between.slice(3));
    });

    it('defaults to 50 messages and allows 1 to 100', async () => {
      const p = await member('Pat');
      const q = await member('Quinn');
      for (let i = 1; i <= 105; i++) await send(i % 2 ? p : q, i % 2 ? q : p, `bulk ${i}`);
      const page = await history(p, q);
      expect(page).toHaveLength(50);
      expect(page[0].message).toBe('bulk 105');
      expect(page[49].message).toBe('bulk 56');
      expect(await history(p, q, '?limit=1')).toEqual([page[0]]);
      const max = await history(p, q, '?limit=100');
      expect(max).toHaveLength(100);
      expect(max.slice(0, 50)).toEqual(page);
    });

    it('treats an empty limit or before_id as not given', async () => {
      expect(await history(a, b, '?limit=&before_id=')).toEqual(between);
    });

    it('is empty between users who never wrote to each other', async () => {
      expect(await history(b, carol)).toEqual([]);
    });

    it.each(['0', '101', 'abc', '1.5', '-1', '1e400', '99999999999', '%20', '0x10', '1e1', '+5'])(
      'refuses limit=%s with 400',
      async (limit) => {
        const res = await request(t.http)
          .get(`/chats/${b.id}?limit=${limit}`)
          .set('Authorization', a.bearer)
          .expect(400);
        expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
        expect(JSON.stringify(res.body.message)).toContain('limit');
      },
    );

    it.each(['0', 'abc', '1.5', '-5', '99999999999', '0x10', '1e1'])(
      'refuses before_id=%s with 400',
      async (beforeId) => {
        const res = await request(t.http)
          .get(`/chats/${b.id}?before_id=${beforeId}`)
          .set('Authorization', a.bearer)
          .expect(400);
        expect(JSON.stringify(res.body.message)).toContain('before_id');
      },
    );

    it.each(['abc', '1e3', '-1', '0', '99999999999', '1.5', '0x10', '%20', 'null'])(
      'refuses user_id %s with 400',
      async (userId) => {
        const res = await request(t.http).get(`/chats/${userId}`).set('Authorization', a.bearer).expect(400);
        expect(res.body).toEqual({
          statusCode: 400,
          error: 'Bad Request',
          message: expect.stringContaining('user_id'),
        });
      },
    );

    it('answers 404 for an unknown user', async () => {
      const res = await request(t.http).get(`/chats/${UNKNOWN_ID}`).set('Authorization', a.bearer).expect(404);
      expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: expect.any(String) });
    });

    it('answers 401 without a session, before looking at the parameters', async () => {
      await request(t.http).get(`/chats/${b.id}`).expect(401);
      await request(t.http).get('/chats/abc?limit=0').expect(401);
    });
  });

  describe('privacy between pairs', () => {
    it("never shows a user another pair's private messages", async () => {
      const secret = `for Bob only ${Date.now()}`;
      await send(alice, bob, secret);
      const eve = await member('Eve');
      const responses = await Promise.all([
        request(t.http).get('/chats').set('Authorization', eve.bearer),
        request(t.http).get(`/chats/${alice.id}`).set('Authorization', eve.bearer),
        request(t.http).get(`/chats/${bob.id}`).set('Authorization', eve.bearer),
        request(t.http).get(`/chats/${bob.id}?limit=100&before_id=2147483647`).set('Authorization', eve.bearer),
        request(t.http).get('/global_chat?limit=100').set('Authorization', eve.bearer),
      ]);
      for (const res of responses) {
        expect(res.status).toBe(200);
        expect(res.text).not.toContain(secret);
      }
      expect(responses[0].body.conversations).toEqual([]);
      expect(responses[1].body.messages).toEqual([]);
      expect(responses[2].body.messages).toEqual([]);
      // Carol, who has exchanged nothing with either, sees nothing of it either.
      const asCarol = await request(t.http).get(`/chats/${bob.id}`).set('Authorization', carol.bearer).expect(200);
      expect(asCarol.text).not.toContain(secret);
      // The two who exchanged it both see it.
      expect((await history(bob, alice)).map((m) => m.message)).toContain(secret);
      expect((await history(alice, bob)).map((m) => m.message)).toContain(secret);
    });
  });

  describe('POST /global_chat', () => {
    it('stores a trimmed message and returns it with the author', async () => {
      const res = await request(t.http)
        .post('/global_chat')
        .set('Authorization', alice.bearer)
        .send({ message: '\t Hi all! ' })
        .expect(201);
      expect(res.body).toEqual({
        message: {
          id: expect.any(Number),
          user_id: alice.id,
          user_name: 'Alice',
          message: 'Hi all!',
          timestamp: expect.stringMatching(ISO),
        },
      });
      const row = await t.dataSource.getRepository(GlobalChat).findOneByOrFail({ id: res.body.message.id });
      expect(row).toMatchObject({ userId: alice.id, message: 'Hi all!' });
      expect(row.timestamp.toISOString()).toBe(res.body.message.timestamp);
    });

    it.each([
      ['2000 emoji', '😀'.repeat(2000)],
      ['2000 characters inside padding', ` ${'b'.repeat(2000)} `],
    ])('accepts %s', async (_case, message) => {
      expect((await post(bob, message)).message).toBe(message.trim());
    });

    it.each([
      ['2001 emoji', '😀'.repeat(2001)],
      ['empty', ''],
      ['blank', '   '],
      ['a number', 7],
      ['an object', { text: 'x' }],
      ['missing', undefined],
    ])('refuses a message that is %s with 400 and stores nothing', async (_case, message) => {
      const before = await globalCount();
      const res = await request(t.http)
        .post('/global_chat')
        .set('Authorization', alice.bearer)
        .send({ message })
        .expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(JSON.stringify(res.body.message)).toContain('message');
      expect(await globalCount()).toBe(before);
    });

    it.each([
      ['user_id', { user_id: 1 }],
      ['user_name', { user_name: 'Admin' }],
      ['id', { id: 1 }],
    ])('refuses an extra field (%s) with 400 and stores nothing', async (field, extra) => {
      const before = await globalCount();
      const res = await request(t.http)
        .post('/global_chat')
        .set('Authorization', carol.bearer)
        .send({ message: 'spoof', ...extra })
        .expect(400);
      expect(JSON.stringify(res.body.message)).toContain(field);
      expect(await globalCount()).toBe(before);
    });

    it('answers 401 without a session and stores nothing', async () => {
      const before = await globalCount();
      const res = await request(t.http).post('/global_chat').send({ message: 'anonymous' }).expect(401);
      expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', reason: 'missing' });
      expect(await globalCount()).toBe(before);
    });
  });

  describe('GET /global_chat', () => {
    it('lists messages newest first with the right author names', async () => {
      const zed = await member('Zed 🚀');
      const posted = [
        await post(alice, 'g1'),
        await post(bob, 'g2'),
        await post(zed, 'g3'),
        await post(carol, 'g4'),
        await post(alice, 'g5'),
      ];
      const res = await request(t.http).get('/global_chat').set('Authorization', bob.bearer).expect(200);
      expect(res.body.messages.slice(0, 5)).toEqual([...posted].reverse());
      expect(res.body.messages.slice(0, 5).map((m: GlobalMessage) => [m.user_id, m.user_name, m.message])).toEqual([
        [alice.id, 'Alice', 'g5'],
        [carol.id, 'Carol', 'g4'],
        [zed.id, 'Zed 🚀', 'g3'],
        [bob.id, 'Bob', 'g2'],
        [alice.id, 'Alice', 'g1'],
      ]);
      const ids = res.body.messages.map((m: GlobalMessage) => m.id);
      expect(ids).toEqual([...ids].sort((p: number, q: number) => q - p));
    });

    it('walks the whole room with before_id paging, no gaps or duplicates, and defaults to 50', async () => {
      for (let i = 0; i < 52; i++) await post(carol, `filler ${i}`);
      const total = await globalCount();
      expect(total).toBeGreaterThan(50);

      const first = await request(t.http).get('/global_chat').set('Authorization', alice.bearer).expect(200);
      expect(first.body.messages).toHaveLength(50);

      const seen: GlobalMessage[] = [];
      let query = '?limit=7';
      for (let guard = 0; guard < 100; guard++) {
        const page: GlobalMessage[] = (
          await request(t.http).get(`/global_chat${query}`).set('Authorization', alice.bearer).expect(200)
        ).body.messages;
        expect(page.length).toBeLessThanOrEqual(7);
        if (page.length === 0) break;
        seen.push(...page);
        query = `?limit=7&before_id=${page[page.length - 1].id}`;
      }
      expect(seen).toHaveLength(total);
      expect(new Set(seen.map((m) => m.id)).size).toBe(total);
      expect(seen.slice(0, 50)).toEqual(first.body.messages);
      const rows = await t.dataSource.getRepository(GlobalChat).find({ order: { id: 'DESC' } });
      expect(seen.map((m) => m.id)).toEqual(rows.map((r) => r.id));
      expect(seen.map((m) => m.message)).toEqual(rows.map((r) => r.message));
    });

    it('accepts limit 1 and 100', async () => {
      const one = await request(t.http).get('/global_chat?limit=1').set('Authorization', alice.bearer).expect(200);
      expect(one.body.messages).toHaveLength(1);
      const hundred = await request(t.http)
        .get('/global_chat?limit=100')
        .set('Authorization', alice.bearer)
        .expect(200);
      expect(hundred.body.messages).toHaveLength(Math.min(100, await globalCount()));
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=1.5', 'limit'],
      ['limit=-3', 'limit'],
      ['before_id=abc', 'before_id'],
      ['before_id=0', 'before_id'],
      ['before_id=2.5', 'before_id'],
    ])('refuses %s with 400', async (query, field) => {
      const res = await request(t.http).get(`/global_chat?${query}`).set('Authorization', alice.bearer).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(JSON.stringify(res.body.message)).toContain(field);
    });

    it('ignores unknown query parameters', async () => {
      await request(t.http).get('/global_chat?limit=2&cache_buster=123').set('Authorization', alice.bearer).expect(200);
    });

    it('answers 401 without a session', async () => {
      const res = await request(t.http).get('/global_chat').expect(401);
      expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', reason: 'missing' });
    });
  });
});
