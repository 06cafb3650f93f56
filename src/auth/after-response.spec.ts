import type { PinoLogger } from 'nestjs-pino';
import { AfterResponse } from './after-response';

function setup() {
  const lines: Array<{ level: string; fields: Record<string, unknown> }> = [];
  const logger = {
    setContext: () => undefined,
    warn: (fields: Record<string, unknown>) => lines.push({ level: 'warn', fields }),
    error: (fields: Record<string, unknown>) => lines.push({ level: 'error', fields }),
  } as unknown as PinoLogger;
  return { later: new AfterResponse(logger), lines };
}

describe('AfterResponse', () => {
  it('starts a task only after the current turn of the event loop (the response is written first)', async () => {
    const { later } = setup();
    const order: string[] = [];
    later.run('task', () => {
      order.push('task');
      return Promise.resolve();
    });
    await Promise.resolve();
    order.push('response');
    await later.idle();
    expect(order).toEqual(['response', 'task']);
  });

  it('runs at most two tasks at once and settles idle() when all are done', async () => {
    const { later } = setup();
    let running = 0;
    let most = 0;
    let done = 0;
    for (let i = 0; i < 7; i++)
      later.run('task', async () => {
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        done++;
      });
    await later.idle();
    expect(done).toBe(7);
    expect(most).toBe(2);
  });

  it('logs a failing task (class and code only) and goes on with the others', async () => {
    const { later, lines } = setup();
    let ran = false;
    later.run('broken', () =>
      Promise.reject(Object.assign(new TypeError('a message naming ada@example.com'), { code: 'X1' })),
    );
    later.run('fine', () => {
      ran = true;
      return Promise.resolve();
    });
    await later.idle();
    expect(ran).toBe(true);
    expect(lines).toEqual([
      { level: 'error', fields: { event: 'deferred_failed', task: 'broken', error: 'TypeError', code: 'X1' } },
    ]);
  });

  it('drops (and logs) what comes beyond 200 waiting, and everything once stopping', async () => {
    const { later, lines } = setup();
    let ran = 0;
    const task = () => {
      ran++;
      return Promise.resolve();
    };
    for (let i = 0; i < 205; i++) later.run('flood', task);
    await later.onModuleDestroy();
    expect(ran).toBe(200);
    expect(lines.filter((l) => l.fields.event === 'deferred_dropped')).toHaveLength(5);
    later.run('late', task);
    await later.idle();
    expect(ran).toBe(200);
  });
});
