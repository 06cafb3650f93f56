import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';

/** Tasks run at once; more wait their turn. */
const CONCURRENCY = 2;
/** Tasks that may wait; beyond that a task is dropped (and logged): the queue never grows without bound. */
const MAX_WAITING = 200;

/**
 * Work that a request asks for but must not answer with: "forgot password" and the signed-out
 * "resend verification" answer the same 202 at once whether or not an account uses the address, and
 * only then (in this process, on the next turn of the event loop, after the response was written)
 * look the address up, issue a token and queue the mail. So the answer's time cannot tell a known
 * address from an unknown one: the lookup, the token and the transaction happen after it.
 *
 * Bounded: CONCURRENCY tasks at a time, MAX_WAITING waiting; past that a task is dropped and logged
 * (`deferred_dropped`) — under such a flood the per-address limit has been spread over many
 * addresses, and no mail is a better answer than an unbounded queue. A task's failure is logged,
 * never thrown. On shutdown the tasks in hand finish before the database closes.
 */
@Injectable()
export class AfterResponse implements OnModuleDestroy {
  private readonly waiting: Array<() => Promise<void>> = [];
  private running = 0;
  private readonly settled = new Set<() => void>();
  private stopped = false;

  constructor(private readonly logger: PinoLogger) {
    this.logger.setContext('AfterResponse');
  }

  /** Runs `task` after the current response is written; `name` labels its log lines. */
  run(name: string, task: () => Promise<void>): void {
    if (this.stopped || this.waiting.length >= MAX_WAITING) {
      this.logger.warn({ event: 'deferred_dropped', task: name }, 'deferred task dropped: too many waiting');
      return;
    }
    this.waiting.push(async () => {
      try {
        await task();
      } catch (error) {
        // Class and code only: a driver's message can quote the SQL and its parameters (an address).
        const { name: kind, code } = (error ?? {}) as { name?: string; code?: string };
        this.logger.error(
          { event: 'deferred_failed', task: name, error: kind ?? typeof error, code },
          'deferred task failed',
        );
      }
    });
    // setImmediate: after the microtasks that write the response, so the work never delays it.
    setImmediate(() => this.next());
  }

  /** Settles once no task is running or waiting (tests, shutdown). */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.settled.add(resolve));
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }

  private next(): void {
    while (this.running < CONCURRENCY && this.waiting.length > 0) {
      const task = this.waiting.shift()!;
      this.running++;
      void task().finally(() => {
        this.running--;
        this.next();
        if (this.running === 0 && this.waiting.length === 0) {
          for (const resolve of this.settled) resolve();
          this.settled.clear();
        }
      });
    }
  }
}
