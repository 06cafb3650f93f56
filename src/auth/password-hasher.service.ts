import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import * as bcrypt from 'bcrypt';
import { appConfig, type AppConfig } from '../config/app.config';
import { HttpErrorWithHeaders } from '../common/http-error';

/** bcrypt reads at most 72 bytes; longer passwords are refused at validation, never cut. */
export const MAX_PASSWORD_BYTES = 72;

/**
 * `$2y$` (PHP, some Flask setups) and `$2a$` are the same algorithm as `$2b$` for any password
 * we accept; the native binding is given the `$2b$` spelling so every original hash verifies.
 */
export function normalizeBcryptHash(hash: string): string {
  return hash.startsWith('$2y$') ? `$2b$${hash.slice(4)}` : hash;
}

/**
 * bcrypt on the native binding (the work runs on libuv's thread pool, not the event loop; the
 * pure-JS bcryptjs stalled every other request for up to ~850 ms under concurrent logins here).
 * Hashing is deliberately slow, so the number of hashes in flight is bounded: `BCRYPT_CONCURRENCY`
 * run (by default one core fewer than the machine has, so a login storm leaves the event loop a
 * core and every other request keeps its speed), `BCRYPT_MAX_PENDING` more may wait, and any
 * beyond that get 503 with Retry-After rather than a long queue that would time out anyway.
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  private readonly maxRunning: number;
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private dummyHash = '';

  constructor(@Inject(appConfig.KEY) private readonly config: AppConfig) {
    this.maxRunning = config.bcryptConcurrency;
  }

  async onModuleInit(): Promise<void> {
    // Compared against when the email is unknown, so that path costs the same as a wrong password.
    this.dummyHash = await bcrypt.hash('not-a-real-password', this.config.bcryptRounds);
  }

  hash(password: string): Promise<string> {
    return this.limited(() => bcrypt.hash(password, this.config.bcryptRounds));
  }

  /** Checks a password against a stored hash, or against a dummy hash when there is none. */
  verify(password: string, hash: string | undefined): Promise<boolean> {
    // bcrypt would silently ignore bytes past 72, letting "stored password + anything" match.
    const comparable = hash !== undefined && Buffer.byteLength(password, 'utf8') <= MAX_PASSWORD_BYTES;
    return this.limited(async () => {
      try {
        const ok = await bcrypt.compare(password, normalizeBcryptHash(comparable ? hash : this.dummyHash));
        return ok && comparable;
      } catch {
        return false; // a malformed stored hash matches nothing
      }
    });
  }

  private async limited<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxRunning) {
      if (this.waiting.length >= this.config.bcryptMaxPending) {
        throw new HttpErrorWithHeaders(503, 'Too many sign-in requests at once; retry shortly', { 'Retry-After': '1' });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
