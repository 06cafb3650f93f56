import { GlobalChat } from '../src/chat/global-chat.entity';
import { createTestApp, signup, type TestApp } from './utils/test-app';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Transactions of concurrent requests stay apart (database.options.ts, AppDataSource). On SQLite,
 * TypeORM has one connection and used to nest a transaction started while another was open as a
 * SAVEPOINT inside it, so one request's rollback undid another request's committed work; on
 * PostgreSQL each transaction has a connection of its own. Both databases must give the same
 * answer here.
 */
describe('Concurrent transactions', () => {
  let t: TestApp;
  let userId: number;
  beforeAll(async () => {
    t = await createTestApp();
    userId = (await signup(t.http, { email: 'tx@example.com' })).id;
  });
  afterAll(() => t.close());

  const insert = (manager: TestApp['dataSource']['manager'], message: string) =>
    manager.insert(GlobalChat, { userId, message, timestamp: new Date() });
  const stored = async (prefix: string) =>
    (await t.dataSource.getRepository(GlobalChat).find({ order: { id: 'ASC' } }))
      .map((row) => row.message)
      .filter((message) => message.startsWith(prefix));

  it("a transaction that rolls back never takes another's committed work with it", async () => {
    const failing = t.dataSource.transaction(async (manager) => {
      await insert(manager, 'a:rolled back');
      await pause(30);
      throw new Error('rolled back on purpose');
    });
    await pause(5);
    const committed = t.dataSource.transaction(async (manager) => insert(manager, 'a:committed'));
    await expect(failing).rejects.toThrow('rolled back on purpose');
    await expect(committed).resolves.toBeDefined();
    expect(await stored('a:')).toEqual(['a:committed']);
  });

  it("a transaction that commits never commits another's half-done work", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = t.dataSource.transaction(async (manager) => {
      await insert(manager, 'b:first half');
      await held;
      throw new Error('second half failed');
    });
    const quick = t.dataSource.transaction(async (manager) => insert(manager, 'b:quick'));
    // Whichever database: the quick one may wait for the slow one (SQLite) or not (PostgreSQL),
    // so the slow one is let go only after giving the quick one a chance to run.
    await pause(20);
    release();
    await expect(slow).rejects.toThrow('second half failed');
    await quick;
    expect(await stored('b:')).toEqual(['b:quick']);
  });

  it('20 concurrent transactions, every other one rolled back: exactly the committed ones are kept', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        t.dataSource.transaction(async (manager) => {
          await insert(manager, `c:${i}`);
          await pause(i % 3);
          if (i % 2 === 1) throw new Error(`fail ${i}`);
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    expect((await stored('c:')).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `c:${i * 2}`).sort());
  });

  it('work inside a transaction may use its own manager again without waiting for itself', async () => {
    await t.dataSource.transaction(async (manager) => {
      await insert(manager, 'd:outer');
      await manager.transaction(async (inner) => insert(inner, 'd:inner'));
    });
    expect(await stored('d:')).toEqual(['d:outer', 'd:inner']);
  });
});
