import type { Transaction } from '../common/database/transactions';
import type { LoginAttempt } from './login-attempt.entity';
import type { LoginAttemptsRepository } from './login-attempts.repository';
import { LOGIN_ACTIVITY_LIMIT, LOGIN_ACTIVITY_SUCCESSES, LoginAttemptsService } from './login-attempts.service';

/** LoginAttemptsService's rules with its repository faked: no database. */
function setup(latest: LoginAttempt[] = [], successes: LoginAttempt[] = []) {
  const repo = {
    insert: jest.fn<Promise<void>, [Omit<LoginAttempt, 'id'>, Transaction?]>(() => Promise.resolve()),
    latestOf: jest.fn(() => Promise.resolve({ latest, successes })),
  };
  const now = new Date('2030-01-01T00:00:00.000Z');
  const service = new LoginAttemptsService(repo as unknown as LoginAttemptsRepository, {
    now: () => new Date(now),
  });
  return { service, repo, now };
}

const attempt = (id: number, success: boolean) => ({ id, success }) as LoginAttempt;

describe('LoginAttemptsService (rules, against a fake repository)', () => {
  it('records an attempt at the current time, successful only for `ok`, in the transaction given', async () => {
    const { service, repo, now } = setup();
    const tx = {} as Transaction;
    const client = { ipAddress: '203.0.113.9', userAgent: 'u'.repeat(600) };
    await service.record({ email: `${'e'.repeat(300)}@x`, userId: 3, reason: 'ok', client, country: 'FR' }, tx);
    await service.record({ email: 'a@x', userId: null, reason: 'bad_password', client, country: null });
    const [[ok, okTx], [bad, badTx]] = repo.insert.mock.calls;
    expect(ok).toMatchObject({ attemptedAt: now, userId: 3, success: true, reason: 'ok', newDevice: false });
    expect(ok.email).toHaveLength(254);
    expect(ok.userAgent).toHaveLength(512);
    expect(okTx).toBe(tx);
    expect(bad).toMatchObject({ success: false, reason: 'bad_password', userId: null });
    expect(badTx).toBeUndefined();
  });

  it('lists the latest attempts and the latest successes behind them, each once, newest first', async () => {
    const latest = [attempt(90, false), attempt(80, true), attempt(70, false)];
    const successes = [attempt(80, true), attempt(10, true)];
    const { service, repo } = setup(latest, successes);
    expect((await service.latestFor(5)).map((a) => a.id)).toEqual([90, 80, 70, 10]);
    expect(repo.latestOf).toHaveBeenCalledWith(5, LOGIN_ACTIVITY_LIMIT, LOGIN_ACTIVITY_SUCCESSES);
  });
});
