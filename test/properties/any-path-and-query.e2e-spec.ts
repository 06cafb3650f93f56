import fc from 'fast-check';
import { User } from '../../src/users/user.entity';
import { anySegment, unicodeString } from '../utils/arbitraries';
import {
  usePropertyApp,
  decodeOrUndefined,
  expectSafe,
  expectStatus,
  fail,
  judgeNumber,
  MAX_ID,
  percentEncode,
} from '../utils/property-checks';
import { login, signup } from '../utils/test-app';

/**
 * Property 5: any path parameter (5a) or paging query (5b) gets a 2xx or a 4xx; numeric-looking
 * invalid ones get 400.
 *
 * What every property spec shares is said once, in test/utils/property-checks.ts.
 */
describe('Property tests (fast-check): any path parameter or query string', () => {
  const { t, send, uniq } = usePropertyApp();
  const users = () => t.dataSource.getRepository(User);

  it('5a. any :user_id in GET /chats/:user_id and any :id in DELETE /active_sessions/:id → 2xx/4xx; numeric-looking invalid ones → 400', async () => {
    const d = await signup(t.http, { email: `prop5-d-${uniq()}@example.com` });
    const partner = await signup(t.http, { email: `prop5-e-${uniq()}@example.com` });
    let dSession = await login(t.http, d);
    await send('post', '/chats')
      .set('Cookie', dSession.cookie)
      .send({ receiver_id: partner.id, message: 'hi' })
      .expect(201);
    const maxUserId = async () =>
      (await users().createQueryBuilder('u').select('MAX(u.id)', 'max').getRawOne<{ max: number }>())!.max;

    /** Sent as written: percent signs with or without two hex digits, bytes that are not UTF-8. */
    const rawSegment = fc
      .stringMatching(/^(%[0-9A-Fa-f]{2}|%[0-9A-Fa-f]?|%[C-Fc-f][0-9A-Fa-f]%[89ABab][0-9A-Fa-f]|[A-Za-z0-9_~-])+$/)
      .filter((text) => {
        const decoded = decodeOrUndefined(text);
        return decoded !== '.' && decoded !== '..';
      });
    type Param = { kind: 'encoded'; segment: string; all: boolean } | { kind: 'raw'; text: string };
    const param: fc.Arbitrary<Param> = fc.oneof(
      {
        arbitrary: fc.record({ kind: fc.constant('encoded' as const), segment: anySegment, all: fc.boolean() }),
        weight: 4,
      },
      { arbitrary: fc.record({ kind: fc.constant('raw' as const), text: rawSegment }), weight: 1 },
    );

    await fc.assert(
      fc.asyncProperty(fc.constantFrom('chat', 'delete'), param, async (route, p) => {
        const sent = p.kind === 'raw' ? p.text : percentEncode(p.segment, p.all);
        const path = route === 'chat' ? `/chats/${sent}` : `/active_sessions/${sent}`;
        const method = route === 'chat' ? 'get' : 'delete';
        const res = await send(method, path).set('Cookie', dSession.cookie);
        const what = `${method.toUpperCase()} ${path.slice(0, 300)}`;
        expectSafe(res, what);
        if (p.kind === 'raw' && decodeOrUndefined(p.text) === undefined) {
          // Not a valid percent-encoding of UTF-8 text: refused, as a bad parameter.
          expectStatus(res, 400, what);
          return;
        }
        const segment = p.kind === 'raw' ? decodeOrUndefined(p.text)! : p.segment;
        // What the server decodes: a lone surrogate is sent (and read) as U+FFFD.
        const value = segment.replace(/\p{Cs}/gu, '\ufffd');
        const verdict = judgeNumber(value, 1, MAX_ID);
        if (verdict === 'invalid') expectStatus(res, 400, what);
        else if (verdict === 'valid') {
          const id = Number(value);
          if (route === 'chat') expectStatus(res, id <= (await maxUserId()) ? 200 : 404, what);
          else expectStatus(res, id === dSession.body.session.id ? 204 : 404, what);
        } else expectStatus(res, route === 'chat' ? [200, 400, 404] : [204, 400, 404], what);
        if (res.status === 400) expect(res.body.message).toMatch(/must be a positive integer/);
        if (route === 'chat' && res.status === 200) {
          for (const m of res.body.messages)
            if (m.sender_id !== d.id && m.receiver_id !== d.id) fail(`${what}: a message D is not in`);
        }
        // Ending D's own current session is a logout: sign in again for the next run.
        if (route === 'delete' && res.status === 204) dSession = await login(t.http, d);
      }),
      { numRuns: 400 },
    );
  });

  it('5b. any limit / before_id query on GET /global_chat and GET /chats/:user_id → 2xx/4xx; numeric-looking invalid ones → 400', async () => {
    const d = await signup(t.http, { email: `prop5b-d-${uniq()}@example.com` });
    const partner = await signup(t.http, { email: `prop5b-e-${uniq()}@example.com` });
    const dSession = await login(t.http, d);
    for (let i = 0; i < 5; i++) {
      await send('post', '/chats')
        .set('Cookie', dSession.cookie)
        .send({ receiver_id: partner.id, message: `m${i}` })
        .expect(201);
      await send('post', '/global_chat')
        .set('Cookie', dSession.cookie)
        .send({ message: `g${i}` })
        .expect(201);
    }

    const paramValue = fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 3 },
      { arbitrary: fc.constant(''), weight: 1 },
      { arbitrary: anySegment, weight: 6 },
      { arbitrary: fc.integer({ min: 1, max: 100 }).map(String), weight: 3 },
      { arbitrary: fc.constantFrom('0', '101', '100', '1', '50', '-1', '1000000'), weight: 2 },
    );
    const extra = fc.array(fc.tuple(unicodeString(8, 1), unicodeString(8)), { maxLength: 3 });

    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('global', 'chat'),
        paramValue,
        paramValue,
        fc.boolean(),
        fc.boolean(),
        extra,
        async (route, limit, beforeId, duplicate, encodeAll, extras) => {
          const pairs: Array<[string, string]> = [];
          if (limit !== undefined) pairs.push(['limit', limit]);
          if (beforeId !== undefined) pairs.push(['before_id', beforeId]);
          if (duplicate && limit !== undefined) pairs.push(['limit', limit]);
          for (const [k, v] of extras)
            if (!['limit', 'before_id'].includes(k.replace(/\p{Cs}/gu, '\ufffd'))) pairs.push([k, v]);
          const query = pairs
            .map(([k, v]) => `${percentEncode(k, encodeAll)}=${percentEncode(v, encodeAll)}`)
            .join('&');
          const path = `${route === 'global' ? '/global_chat' : `/chats/${partner.id}`}${query ? `?${query}` : ''}`;
          const res = await send('get', path).set('Cookie', dSession.cookie);
          const what = `GET ${path.slice(0, 400)}`;
          expectSafe(res, what);

          const judge = (v: string | undefined, max: number) =>
            v === undefined || v === '' ? 'valid' : judgeNumber(v.replace(/\p{Cs}/gu, '\ufffd'), 1, max);
          const verdicts = [judge(limit, 100), judge(beforeId, MAX_ID)];
          if (duplicate && limit !== undefined) expectStatus(res, [200, 400], what);
          else if (verdicts.includes('invalid')) expectStatus(res, 400, what);
          else if (verdicts.every((v) => v === 'valid')) expectStatus(res, 200, what);
          else expectStatus(res, [200, 400], what);

          if (res.status === 200) {
            const ids: number[] = res.body.messages.map((m: { id: number }) => m.id);
            const max = limit && judgeNumber(limit, 1, 100) !== 'invalid' ? Number(limit) : 50;
            if (ids.length > max) fail(`${what}: ${ids.length} messages, limit ${max}`);
            for (let i = 1; i < ids.length; i++)
              if (!(ids[i] < ids[i - 1])) fail(`${what}: not newest first: ${ids.join(', ')}`);
            if (beforeId && judgeNumber(beforeId, 1, MAX_ID) !== 'invalid')
              for (const id of ids) if (id >= Number(beforeId)) fail(`${what}: id ${id} not before ${beforeId}`);
            if (route === 'chat') {
              for (const m of res.body.messages) {
                const between =
                  (m.sender_id === d.id && m.receiver_id === partner.id) ||
                  (m.sender_id === partner.id && m.receiver_id === d.id);
                if (!between) fail(`${what}: a message not between D and the partner`);
              }
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
