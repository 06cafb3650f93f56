import request from 'supertest';
import { CleanupService } from '../src/cleanup/cleanup.service';
import { OutboxRepository } from '../src/mail/outbox.repository';
import { createTestApp, login, signup, type TestApp } from './utils/test-app';

interface Statement {
  all(...params: unknown[]): Array<{ detail: string }>;
}
interface SqliteConnection {
  prepare(sql: string): Statement;
}

/**
 * The plans SQLite picks for the queries a request makes, on a database without statistics (no
 * ANALYZE has run, as on every fresh deployment). Found by the benchmark at 100,000 sessions:
 * GET /active_sessions once searched the cleanup job's (is_active, expires_at) index, reading
 * every user's active sessions (docs/PERFORMANCE.md).
 */
describe('Query plans on SQLite without statistics', () => {
  let t: TestApp;
  beforeAll(async () => {
    // SQLite's planner, even under npm run test:pg: it is the one that chose badly without statistics.
    t = await createTestApp({ DATABASE_URL: 'sqlite:///:memory:' });
  });
  afterAll(() => t.close());

  /** Every SQL statement the request made SQLite prepare (TypeORM prepares each one it runs). */
  async function statementsOf(send: () => Promise<unknown>): Promise<string[]> {
    const connection = (t.dataSource.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
    const seen: string[] = [];
    const prepare = connection.prepare.bind(connection);
    const spy = jest.spyOn(connection, 'prepare').mockImplementation((sql: string) => {
      seen.push(sql);
      return prepare(sql);
    });
    try {
      await send();
    } finally {
      spy.mockRestore();
    }
    return seen;
  }

  function planOf(sql: string): string[] {
    const connection = (t.dataSource.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
    const params = new Array<null>((sql.match(/\?/g) ?? []).length).fill(null);
    return connection
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((row) => row.detail);
  }

  it("GET /active_sessions reads the caller's sessions through the (user_id, is_active) index", async () => {
    const user = await signup(t.http);
    const { cookie } = await login(t.http, user);
    const statements = await statementsOf(() =>
      request(t.http).get('/active_sessions').set('Cookie', cookie).expect(200),
    );
    const listing = statements.filter(
      (sql) => /^SELECT/i.test(sql) && /FROM "sessions"/.test(sql) && !/token_hash\s*=/.test(sql),
    );
    expect(listing.length).toBeGreaterThan(0);
    for (const sql of listing) {
      const plan = planOf(sql);
      expect({ sql, plan }).toEqual({
        sql,
        plan: expect.arrayContaining([
          expect.stringMatching(/USING INDEX ix_sessions_user_active \(user_id=\? AND is_active=\?\)/),
        ]),
      });
      expect(plan.join('\n')).not.toMatch(/ix_sessions_active_expires|SCAN sessions/);
    }
  });

  it("GET /chats reads the caller's conversations through the two covering chat indexes, never a table scan", async () => {
    const user = await signup(t.http);
    const other = await signup(t.http);
    const { cookie } = await login(t.http, user);
    await request(t.http)
      .post('/chats')
      .set('Cookie', cookie)
      .send({ receiver_id: other.id, message: 'hi' })
      .expect(201);
    for (const query of ['', '?before=1000&limit=10']) {
      const statements = await statementsOf(() =>
        request(t.http).get(`/chats${query}`).set('Cookie', cookie).expect(200),
      );
      const page = statements.filter((sql) => /UNION ALL/.test(sql));
      expect(page).toHaveLength(1);
      const plan = planOf(page[0]).join('\n');
      expect(plan).toMatch(/SEARCH chats USING COVERING INDEX ix_chats_sender_receiver \(sender_id=\?\)/);
      expect(plan).toMatch(/SEARCH chats USING COVERING INDEX ix_chats_receiver_sender \(receiver_id=\?\)/);
      expect(plan).not.toMatch(/SCAN chats/);
      // The page's messages by primary key.
      const messages = statements.filter((sql) => /FROM "chats"/.test(sql) && !/UNION ALL/.test(sql));
      for (const sql of messages) expect(planOf(sql).join('\n')).not.toMatch(/SCAN/);
    }
  });

  it('GET /login_activity reads the latest attempts and the latest successes each through an index of its own', async () => {
    const user = await signup(t.http);
    const { cookie } = await login(t.http, user);
    const statements = await statementsOf(() =>
      request(t.http).get('/login_activity').set('Cookie', cookie).expect(200),
    );
    const reads = statements.filter((sql) => /FROM "login_attempts"/.test(sql));
    expect(reads).toHaveLength(2);
    const plans = reads.map((sql) => planOf(sql).join('\n'));
    expect(plans[0]).toMatch(/SEARCH \S+ USING INDEX ix_login_attempts_user \(user_id=\?\)/);
    expect(plans[1]).toMatch(/SEARCH \S+ USING INDEX ix_login_attempts_user_success \(user_id=\? AND success=\?\)/);
    // Read in index order, newest first: no sort of the account's whole history.
    for (const plan of plans) expect(plan).not.toMatch(/SCAN|TEMP B-TREE/);
  });

  it("the cleanup job's outbox retention finds sent and given-up rows through partial indexes, never a table scan", async () => {
    const statements = await statementsOf(() => t.app.get(CleanupService).run());
    const deletes = statements.filter((sql) => /^DELETE FROM "outbox"/.test(sql));
    // One statement for sent rows, one for given-up rows (each finds nothing left here).
    expect(deletes).toHaveLength(2);
    const plans = deletes.map((sql) => planOf(sql).join('\n'));
    expect(plans[0]).toMatch(/USING (COVERING )?INDEX ix_outbox_sent \(sent_at<\?\)/);
    expect(plans[1]).toMatch(/USING (COVERING )?INDEX ix_outbox_failed \(failed_at<\?\)/);
    for (const plan of plans) expect(plan).not.toMatch(/SCAN outbox|SCAN b\b/);
  });

  it("the outbox's claim reads pending rows and the ordering check through partial indexes, never a table scan", async () => {
    const now = new Date();
    // Two kinds: a statement of its own (the worker's one-kind claim is prepared and cached already).
    const statements = await statementsOf(() =>
      t.dataSource.transaction((tx) =>
        t.app.get(OutboxRepository, { strict: false }).claim(['mail', 'webhook'], 'w', now, now, 20, tx),
      ),
    );
    const claims = statements.filter((sql) => /^UPDATE outbox SET locked_until/.test(sql.trim()));
    expect(claims).toHaveLength(1);
    const plan = planOf(claims[0]).join('\n');
    expect(plan).toMatch(/SEARCH outbox USING INDEX ix_outbox_pending \(available_at<\?\)/);
    // The correlated "an earlier pending row of this key" check: a search on (ordering_key, id).
    expect(plan).toMatch(/SEARCH earlier USING (COVERING )?INDEX ix_outbox_ordering \(ordering_key=\? AND id<\?\)/);
    expect(plan).not.toMatch(/SCAN outbox|SCAN earlier/);
  });
});
