import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Redis from 'ioredis';
import request from 'supertest';
import { Chat } from '../src/chat/chat.entity';
import { GlobalChat } from '../src/chat/global-chat.entity';
import { User } from '../src/users/user.entity';
import { createScratchDatabase, ON_POSTGRES, TEST_POSTGRES_URL } from './utils/postgres';
import { createTestApp, login, signup, type TestApp, type TestUser } from './utils/test-app';

interface Conversation {
  user: { id: number; name: string };
  last_message: { id: number; sender_id: number; receiver_id: number; message: string; timestamp: string };
}

/**
 * Issue 17, "Chat is bounded": GET /chats answers one page whatever the number of conversations,
 * and sending is limited per session.
 */
describe('Chat volume', () => {
  describe('GET /chats paging', () => {
    let t: TestApp;
    let me: { id: number; bearer: string };
    /** Partner id → the id of the conversation's latest message, as the database holds them. */
    let expected: Array<{ partner: number; lastId: number }>;

    /** Adds `count` users directly (no hashing: they never log in); returns their ids. */
    async function addUsers(count: number): Promise<number[]> {
      const users = t.dataSource.getRepository(User);
      const ids: number[] = [];
      for (let i = 0; i < count; i++) {
        const result = await users.insert({
          name: `Partner ${i}`,
          phone: '+1 555 0100',
          email: `partner${i}-${randomBytes(4).toString('hex')}@example.com`,
          passwordHash: 'x',
          createdAt: new Date(),
        });
        ids.push(result.identifiers[0].id as number);
      }
      return ids;
    }

    async function page(query = ''): Promise<Conversation[]> {
      const res = await request(t.http).get(`/chats${query}`).set('Authorization', me.bearer).expect(200);
      expect(Object.keys(res.body)).toEqual(['conversations']);
      return res.body.conversations;
    }

    /** Walks every page of `limit`; returns the pages. */
    async function walk(limit: number): Promise<Conversation[][]> {
      const pages: Conversation[][] = [];
      let query = `?limit=${limit}`;
      for (let guard = 0; guard < 500; guard++) {
        const current = await page(query);
        pages.push(current);
        if (current.length === 0) return pages;
        query = `?limit=${limit}&before=${current[current.length - 1].last_message.id}`;
      }
      throw new Error('paging never ended');
    }

    beforeAll(async () => {
      t = await createTestApp();
      const user = await signup(t.http, { name: 'Busy' });
      me = { id: user.id, bearer: `Bearer ${(await login(t.http, user)).token}` };
      const partners = await addUsers(150);
      // 150 conversations plus one with oneself, messages in both directions, interleaved with other
      // pairs' messages, all at one instant: times tie everywhere, ids never do.
      const at = new Date('2030-01-01T00:00:00.000Z');
      const rows: Array<Partial<Chat>> = [];
      const pick = (i: number) => partners[(i * 37) % partners.length];
      for (let i = 0; i < 450; i++) {
        // Three rounds over every partner, each in a shuffled order, alternating directions.
        const other = pick(i);
        const out = (i + Math.floor(i / partners.length)) % 2 === 0;
        rows.push(
          out
            ? { senderId: me.id, receiverId: other, message: `out ${i}`, timestamp: at }
            : { senderId: other, receiverId: me.id, message: `in ${i}`, timestamp: at },
        );
        rows.push({ senderId: other, receiverId: pick(i + 1), message: `theirs ${i}`, timestamp: at });
        if (i === 300) rows.push({ senderId: me.id, receiverId: me.id, message: 'note to self', timestamp: at });
      }
      for (let i = 0; i < rows.length; i += 100) await t.dataSource.getRepository(Chat).insert(rows.slice(i, i + 100));

      const mine = await t.dataSource
        .getRepository(Chat)
        .find({ where: [{ senderId: me.id }, { receiverId: me.id }], order: { id: 'ASC' } });
      const last = new Map<number, number>();
      for (const m of mine) last.set(m.senderId === me.id ? m.receiverId : m.senderId, m.id);
      expected = [...last].map(([partner, lastId]) => ({ partner, lastId })).sort((a, b) => b.lastId - a.lastId);
    });
    afterAll(() => t.close());

    it('has more conversations than the largest page', () => {
      expect(expected.length).toBe(151);
    });

    it('answers 50 by default and at most 100, the most recent first', async () => {
      const first = await page();
      expect(first).toHaveLength(50);
      expect(first.map((c) => [c.user.id, c.last_message.id])).toEqual(
        expected.slice(0, 50).map((e) => [e.partner, e.lastId]),
      );
      const max = await page('?limit=100');
      expect(max).toHaveLength(100);
      expect(max.slice(0, 50)).toEqual(first);
      expect(await page('?limit=1')).toEqual([first[0]]);
      // The body is bounded by the page, not by the 151 conversations: a hundred short entries.
      const res = await request(t.http).get('/chats?limit=100').set('Authorization', me.bearer).expect(200);
      expect(res.text.length).toBeLessThan(100 * 400);
    });

    it('walks every conversation exactly once, newest first, whatever the page size', async () => {
      for (const limit of [1, 7, 50, 100]) {
        const pages = await walk(limit);
        // Full pages, then the remainder, then an empty page that says the walk is over.
        expect(pages.map((p) => p.length)).toEqual([
          ...Array<number>(Math.floor(expected.length / limit)).fill(limit),
          ...(expected.length % limit ? [expected.length % limit] : []),
          0,
        ]);
        const seen = pages.flat();
        expect(seen.map((c) => [c.user.id, c.last_message.id])).toEqual(expected.map((e) => [e.partner, e.lastId]));
        expect(new Set(seen.map((c) => c.user.id)).size).toBe(seen.length);
      }
    });

    it('gives each entry its partner, named, and the latest message between the two', async () => {
      const all = (await walk(100)).flat();
      const self = all.find((c) => c.user.id === me.id);
      expect(self).toEqual({
        user: { id: me.id, name: 'Busy' },
        last_message: expect.objectContaining({ sender_id: me.id, receiver_id: me.id, message: 'note to self' }),
      });
      for (const c of all) {
        expect([c.last_message.sender_id, c.last_message.receiver_id].sort()).toEqual([me.id, c.user.id].sort());
        if (c.user.id !== me.id) expect(c.user.name).toMatch(/^Partner \d+$/);
        expect(c.last_message.timestamp).toBe('2030-01-01T00:00:00.000Z');
      }
    });

    it('takes any before: past the newest gives the first page, the oldest gives nothing', async () => {
      expect(await page(`?before=${expected[0].lastId + 1}`)).toEqual(await page());
      expect(await page(`?before=${expected[expected.length - 1].lastId}`)).toEqual([]);
      expect(await page('?before=1')).toEqual([]);
      expect(await page('?before=2147483647&limit=3')).toEqual(await page('?limit=3'));
      // A cursor between two latest messages (an id that is not one of them) still cuts in the right place.
      const cut = expected[10].lastId - 1;
      const after = await page(`?before=${cut}&limit=5`);
      expect(after.map((c) => c.last_message.id)).toEqual(
        expected
          .filter((e) => e.lastId < cut)
          .slice(0, 5)
          .map((e) => e.lastId),
      );
    });

    it('moves a conversation with a new message to the top of the first page', async () => {
      const oldest = expected[expected.length - 1];
      const res = await request(t.http)
        .post('/chats')
        .set('Authorization', me.bearer)
        .send({ receiver_id: oldest.partner, message: 'back again' })
        .expect(201);
      const first = await page('?limit=2');
      expect(first[0]).toMatchObject({ user: { id: oldest.partner }, last_message: res.body.chat });
      const all = (await walk(40)).flat();
      expect(all).toHaveLength(expected.length);
      expect(all.filter((c) => c.user.id === oldest.partner)).toHaveLength(1);
      expected = [{ partner: oldest.partner, lastId: res.body.chat.id as number }, ...expected.slice(0, -1)];
    });

    it('treats an empty limit or before as not given', async () => {
      expect(await page('?limit=&before=')).toEqual(await page());
    });

    it.each(['0', '101', 'abc', '1.5', '-1', '1e2', '0x10', '99999999999', '%20'])(
      'refuses limit=%s with 400',
      async (limit) => {
        const res = await request(t.http).get(`/chats?limit=${limit}`).set('Authorization', me.bearer).expect(400);
        expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
        expect(JSON.stringify(res.body.message)).toContain('limit');
      },
    );

    it.each(['0', 'abc', '1.5', '-5', '99999999999', '2147483648', '0x10', '1e1', 'null'])(
      'refuses before=%s with 400',
      async (before) => {
        const res = await request(t.http).get(`/chats?before=${before}`).set('Authorization', me.bearer).expect(400);
        expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
        expect(JSON.stringify(res.body.message)).toContain('before');
      },
    );

    it('is empty for someone with no conversations, whatever the cursor', async () => {
      const quiet = await signup(t.http);
      const { token } = await login(t.http, quiet);
      for (const query of ['', '?limit=100', `?before=${expected[0].lastId}`]) {
        const res = await request(t.http).get(`/chats${query}`).set('Authorization', `Bearer ${token}`).expect(200);
        expect(res.body).toEqual({ conversations: [] });
      }
    });
  });

  describe('send limit per session', () => {
    let t: TestApp;
    let alice: TestUser & { bearer: string };
    let bob: TestUser & { bearer: string };

    const sendPrivate = (bearer: string, to: number, message = 'hi') =>
      request(t.http).post('/chats').set('Authorization', bearer).send({ receiver_id: to, message });
    const sendGlobal = (bearer: string, message = 'hi all') =>
      request(t.http).post('/global_chat').set('Authorization', bearer).send({ message });
    const stored = async () =>
      (await t.dataSource.getRepository(Chat).count()) + (await t.dataSource.getRepository(GlobalChat).count());

    beforeAll(async () => {
      t = await createTestApp({ CHAT_RATE_LIMIT: '3', CHAT_RATE_WINDOW: '60' });
    });
    beforeEach(async () => {
      // Fresh sessions each time, so each test starts with a full budget.
      const a = await signup(t.http, { name: 'Alice' });
      const b = await signup(t.http, { name: 'Bob' });
      alice = { ...a, bearer: `Bearer ${(await login(t.http, a)).token}` };
      bob = { ...b, bearer: `Bearer ${(await login(t.http, b)).token}` };
    });
    afterAll(() => t.close());

    it('answers the message past CHAT_RATE_LIMIT, both routes together, with 429 and Retry-After, storing nothing', async () => {
      expect((await sendPrivate(alice.bearer, bob.id)).status).toBe(201);
      expect((await sendGlobal(alice.bearer)).status).toBe(201);
      expect((await sendPrivate(alice.bearer, bob.id)).status).toBe(201);
      const before = await stored();

      for (const blocked of [await sendPrivate(alice.bearer, bob.id), await sendGlobal(alice.bearer)]) {
        expect(blocked.status).toBe(429);
        expect(blocked.body).toEqual({
          statusCode: 429,
          error: 'Too Many Requests',
          message: 'Too many messages; try again later',
        });
        const retryAfter = Number(blocked.headers['retry-after']);
        expect(Number.isInteger(retryAfter)).toBe(true);
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(60);
      }
      expect(await stored()).toBe(before);
    });

    it("limits one session only: the user's other session, other users and reading are unaffected", async () => {
      for (let i = 0; i < 3; i++) expect((await sendGlobal(alice.bearer)).status).toBe(201);
      expect((await sendGlobal(alice.bearer)).status).toBe(429);

      const second = `Bearer ${(await login(t.http, alice)).token}`;
      expect((await sendPrivate(second, bob.id)).status).toBe(201);
      expect((await sendPrivate(bob.bearer, alice.id)).status).toBe(201);
      expect((await sendGlobal(bob.bearer)).status).toBe(201);
      // Only sending is limited: the blocked session still reads.
      await request(t.http).get('/chats').set('Authorization', alice.bearer).expect(200);
      await request(t.http).get('/global_chat').set('Authorization', alice.bearer).expect(200);
      await request(t.http).get(`/chats/${bob.id}`).set('Authorization', alice.bearer).expect(200);
    });

    it('lets exactly CHAT_RATE_LIMIT of a concurrent burst through', async () => {
      const before = await stored();
      const burst = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? sendGlobal(alice.bearer) : sendPrivate(alice.bearer, bob.id))),
      );
      const statuses = burst.map((res) => res.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(3);
      expect(statuses.filter((s) => s === 429)).toHaveLength(17);
      expect(await stored()).toBe(before + 3);
      // Meanwhile the other user's session kept its whole budget.
      for (let i = 0; i < 3; i++) expect((await sendPrivate(bob.bearer, alice.id)).status).toBe(201);
    });

    it('counts requests refused for their input too, so a flood of bad bodies is limited as well', async () => {
      for (let i = 0; i < 3; i++) expect((await sendGlobal(alice.bearer, '')).status).toBe(400);
      expect((await sendGlobal(alice.bearer)).status).toBe(429);
    });

    it('answers 401, not 429, without a session', async () => {
      await request(t.http).post('/chats').send({ receiver_id: bob.id, message: 'hi' }).expect(401);
    });
  });

  it('lets the session send again once the window has passed', async () => {
    // @nestjs/throttler keeps its own time (Date.now, or Redis's), which the FakeClock does not
    // move: a one-second window, waited out for real.
    const t = await createTestApp({ CHAT_RATE_LIMIT: '2', CHAT_RATE_WINDOW: '1' });
    try {
      const user = await signup(t.http);
      const bearer = `Bearer ${(await login(t.http, user)).token}`;
      const send = () => request(t.http).post('/global_chat').set('Authorization', bearer).send({ message: 'tick' });
      let blocked: request.Response | undefined;
      // Bounded: on a slow machine a window may pass between two sends; some burst will reach the limit.
      for (let i = 0; i < 50 && !blocked; i++) {
        const res = await send();
        if (res.status === 429) blocked = res;
        else expect(res.status).toBe(201);
      }
      expect(blocked).toBeDefined();
      const retryAfter = Number(blocked!.headers['retry-after']);
      expect(retryAfter).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 200));
      expect((await send()).status).toBe(201);
    } finally {
      await t.close();
    }
  });

  it('fails closed when Redis is down: sending answers 503 with Retry-After, reading still works', async () => {
    // Signing up and in need Redis too (AUTH_RATE_LIMIT): done by an instance without it, on one database file.
    const file = join(mkdtempSync(join(tmpdir(), 'chat-volume-')), 'db.sqlite');
    const setup = await createTestApp({ DATABASE_URL: `sqlite:///${file}` });
    const user = await signup(setup.http);
    const bearer = `Bearer ${(await login(setup.http, user)).token}`;
    await setup.close();
    // Nothing listens there. As for /login: an outage never means an unlimited pass.
    const t = await createTestApp({ DATABASE_URL: `sqlite:///${file}`, REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      for (const res of [
        await request(t.http).post('/global_chat').set('Authorization', bearer).send({ message: 'hi' }),
        await request(t.http).post('/chats').set('Authorization', bearer).send({ receiver_id: user.id, message: 'hi' }),
      ]) {
        expect(res.status).toBe(503);
        expect(res.headers['retry-after']).toBe('5');
      }
      expect(await t.dataSource.getRepository(GlobalChat).count()).toBe(0);
      await request(t.http).get('/chats').set('Authorization', bearer).expect(200);
      await request(t.http).get('/global_chat').set('Authorization', bearer).expect(200);
    } finally {
      await t.close();
      rmSync(dirname(file), { recursive: true, force: true });
    }
  });

  // With REDIS_URL the counts are shared: two instances on one database, one budget per session.
  (ON_POSTGRES ? it : it.skip)('shares a session’s budget between instances through Redis', async () => {
    const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
    const prefix = `test:chat-volume:${randomBytes(6).toString('hex')}:`;
    const db = await createScratchDatabase(TEST_POSTGRES_URL!, process.env.TEST_PG_RUN!, process.env.TEST_PG_TEMPLATE);
    const env = {
      DATABASE_URL: db.url,
      MIGRATIONS_RUN: 'false',
      REDIS_URL: redisUrl,
      CHAT_RATE_LIMIT: '4',
      CHAT_RATE_WINDOW: '60',
    };
    const a = await createTestApp(env, { redisKeyPrefix: prefix });
    const b = await createTestApp(env, { redisKeyPrefix: prefix });
    try {
      const user = await signup(a.http);
      const other = await signup(a.http);
      const bearer = `Bearer ${(await login(a.http, user)).token}`;
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await request((i % 2 ? b : a).http)
          .post('/chats')
          .set('Authorization', bearer)
          .send({ receiver_id: other.id, message: `m${i}` });
        statuses.push(res.status);
        if (res.status === 429) expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
      expect(statuses).toEqual([201, 201, 201, 201, 429, 429]);
      const redis = new Redis(redisUrl);
      try {
        expect((await redis.keys(`${prefix}*chat:session:*`)).length).toBeGreaterThan(0);
        await redis.del(...(await redis.keys(`${prefix}*`)));
      } finally {
        redis.disconnect();
      }
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });
});
